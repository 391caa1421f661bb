-- wrk: POST /v1/recommend with histories of 1 to 20 items drawn from the
-- first `items` ids (WRK_ITEMS, default 12101: Beauty), k = 10.
-- With WRK_BAD_SHARE (e.g. 0.1) that share of requests is malformed in one of
-- several ways; every one of them must be answered 4xx and none 5xx.
local items = tonumber(os.getenv("WRK_ITEMS") or "12101")
local bad_share = tonumber(os.getenv("WRK_BAD_SHARE") or "0")
local bad_bodies = {
  '{"history": [1, 2',                 -- malformed JSON
  '{"history": []}',                   -- empty history
  '{"history": [999999999]}',          -- unknown item
  '{"history": [1], "k": "ten"}',      -- wrong type
  '{"history": [1], "k": 100000}',     -- k too large
  '[1, 2, 3]',                         -- not an object
  '{"user": "nobody"}',                -- unknown user
}
local counter = 0

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 1000)
end

function request()
  counter = counter + 1
  local body
  if math.random() < bad_share then
    body = bad_bodies[(counter % #bad_bodies) + 1]
  else
    local n = math.random(1, 20)
    local history = {}
    for i = 1, n do history[i] = tostring(math.random(1, items)) end
    body = '{"history": [' .. table.concat(history, ", ") .. '], "k": 10}'
  end
  return wrk.format("POST", "/v1/recommend", {["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p99 %.2f ms, %d requests, %.0f per second, socket errors %d/%d/%d/%d, non-2xx %d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests,
    summary.requests / (summary.duration / 1e6), summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, summary.errors.status))
end
