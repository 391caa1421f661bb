#include "caudal/distributed/cluster.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>

#include "caudal/core/error.h"

#if CAUDAL_HAS_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace caudal {
namespace {

// The whole number `text` spells if it lies in [lo, hi]; none otherwise.
std::optional<int> whole_number_in(const char* text, int lo, int hi) {
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || errno != 0 || value < lo || value > hi) return std::nullopt;
  return static_cast<int>(value);
}

int parse_int_variable(const char* name, const char* text, int lo, int hi) {
  const auto value = whole_number_in(text, lo, hi);
  if (!value)
    throw Error(fmt::format("environment variable {}={:?}: expected a whole number from {} to {}", name, text, lo, hi));
  return *value;
}

bool contains(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

}  // namespace

void parse_host_port(const std::string& text, const std::string& what, std::string& host, int& port) {
  const auto colon = text.rfind(':');
  const auto malformed = [&] { return Error(fmt::format("{} {:?}: expected HOST:PORT, e.g. 127.0.0.1:29500", what, text)); };
  if (colon == std::string::npos || colon == 0) throw malformed();
  host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);  // [::1]
  const auto number = whole_number_in(text.c_str() + colon + 1, 1, 65535);
  if (!number) throw Error(fmt::format("{} {:?}: the port must be a whole number from 1 to 65535", what, text));
  port = *number;
}

int free_local_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  const bool found = fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                     getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0;
  if (fd >= 0) close(fd);
  if (!found) throw Error("no free port on 127.0.0.1");
  return ntohs(address.sin_port);
}

ClusterOptions cluster_options_from_environment(ClusterOptions options, const std::vector<std::string>& from_command_line) {
  if (!contains(from_command_line, "world_size"))
    if (const char* value = std::getenv("WORLD_SIZE")) options.world_size = parse_int_variable("WORLD_SIZE", value, 1, 4096);
  if (!contains(from_command_line, "rank"))
    if (const char* value = std::getenv("RANK")) options.rank = parse_int_variable("RANK", value, 0, 4095);
  if (!contains(from_command_line, "master")) {
    if (const char* value = std::getenv("MASTER_ADDR")) options.master_host = value;
    if (const char* value = std::getenv("MASTER_PORT")) options.master_port = parse_int_variable("MASTER_PORT", value, 1, 65535);
  }
  if (options.rank >= options.world_size)
    throw Error(fmt::format("rank {} is not below the world size {} (ranks are 0 .. {})", options.rank,
                            options.world_size, options.world_size - 1));
  if (options.master_host.empty()) throw Error("the master host (--master or MASTER_ADDR) is empty");
  return options;
}

#if CAUDAL_HAS_GLOO

bool distributed_training_available() { return true; }

namespace {

// LibTorch's messages carry a C++ backtrace; keep the first line.
std::string first_line(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string what = c10_error ? c10_error->what_without_backtrace() : e.what();
  return what.substr(0, what.find('\n'));
}

class GlooCluster final : public Cluster {
 public:
  explicit GlooCluster(const ClusterOptions& options) : Cluster(options) {
    const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(options.timeout_seconds * 1000));
    guarded("joining the cluster at " + endpoint(), [&] {
      c10d::TCPStoreOptions store_options;
      store_options.port = static_cast<uint16_t>(options.master_port);
      store_options.isServer = leader();
      store_options.numWorkers = options.world_size;
      store_options.waitWorkers = true;
      store_options.timeout = timeout;
      store_ = c10::make_intrusive<c10d::TCPStore>(options.master_host, store_options);
      auto group_options = c10d::ProcessGroupGloo::Options::create(timeout);
      group_options->devices.push_back(gloo_device(options));
      group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store_, options.rank, options.world_size, group_options);
    });
  }

  std::string share(const std::string& key, const std::string& value) override {
    const std::string full_key = fmt::format("caudal/{}/{}", shared_++, key);
    std::vector<uint8_t> bytes;
    guarded("sharing " + key, [&] {
      if (leader()) store_->set(full_key, std::vector<uint8_t>(value.begin(), value.end()));
      bytes = store_->get(full_key);
    });
    return std::string(bytes.begin(), bytes.end());
  }

  void broadcast(std::vector<at::Tensor>& tensors) override {
    if (tensors.empty()) return;
    std::vector<at::Tensor> flat_views;
    for (const auto& t : tensors) flat_views.push_back(t.detach().reshape(-1));
    std::vector<at::Tensor> flat = {at::cat(flat_views)};
    guarded("broadcast", [&] { group_->broadcast(flat)->wait(); });
    at::NoGradGuard no_grad;
    int64_t offset = 0;
    for (auto& t : tensors) {
      t.detach().copy_(flat[0].narrow(0, offset, t.numel()).view_as(t));
      offset += t.numel();
    }
  }

  void sum(at::Tensor& tensor) override { start_sum(tensor)->wait(); }

  std::unique_ptr<PendingSum> start_sum(at::Tensor& tensor) override {
    struct GlooSum final : PendingSum {
      GlooCluster* cluster;
      c10::intrusive_ptr<c10d::Work> work;
      void wait() override {
        cluster->guarded("a sum over the ranks", [&] { work->wait(); });
      }
    };
    auto pending = std::make_unique<GlooSum>();
    pending->cluster = this;
    std::vector<at::Tensor> tensors = {tensor};
    guarded("a sum over the ranks", [&] { pending->work = group_->allreduce(tensors); });
    return pending;
  }

 private:
  std::string endpoint() const { return fmt::format("{}:{}", options_.master_host, options_.master_port); }

  // The network interface Gloo talks on: GLOO_SOCKET_IFNAME's when set (as
  // PyTorch reads it), loopback for a master on this host, else the
  // interface this host's name resolves to.
  static std::shared_ptr<::gloo::transport::Device> gloo_device(const ClusterOptions& options) {
    if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"))
      return c10d::ProcessGroupGloo::createDeviceForInterface(interface);
    if (options.master_host == "127.0.0.1" || options.master_host == "localhost")
      return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
    return c10d::ProcessGroupGloo::createDefaultDevice();
  }

  template <typename F>
  void guarded(const std::string& what, F&& f) {
    try {
      f();
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Error(fmt::format(
          "rank {} of {}: {} failed: {} (another rank failed or was stopped, or none answered within {} s: "
          "see --dist-timeout)",
          rank(), size(), what, first_line(e), options_.timeout_seconds));
    }
  }

  c10::intrusive_ptr<c10d::TCPStore> store_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
  int64_t shared_ = 0;
};

}  // namespace

std::unique_ptr<Cluster> Cluster::join(const ClusterOptions& options) {
  if (options.world_size < 2) throw Error("a cluster needs a world size of at least 2");
  if (options.rank < 0 || options.rank >= options.world_size)
    throw Error(fmt::format("rank {} is outside 0 .. {}", options.rank, options.world_size - 1));
  if (!(options.timeout_seconds > 0)) throw Error("--dist-timeout must be positive");
  return std::make_unique<GlooCluster>(options);
}

#else

bool distributed_training_available() { return false; }

std::unique_ptr<Cluster> Cluster::join(const ClusterOptions&) {
  throw Error(
      "this build of caudal has no distributed training: LibTorch's c10d needs the Gloo headers at build time "
      "(Debian: apt-get install libgloo-dev, then rebuild)");
}

#endif

// ---- GradientSum ----

struct GradientSum::Bucket {
  std::vector<size_t> parameters;  // indices into parameters_
  std::vector<int64_t> offsets;    // where each starts in flat
  int64_t numel = 0;
  at::Tensor flat;
  size_t ready = 0;
  std::unique_ptr<Cluster::PendingSum> pending;
};

GradientSum::GradientSum(Cluster& cluster, std::vector<at::Tensor> parameters, int64_t bucket_bytes)
    : cluster_(cluster) {
  for (auto& p : parameters)
    if (p.requires_grad()) parameters_.push_back(p);
  // Backward produces gradients roughly from the last parameter to the first,
  // so buckets are filled in that order: the first bucket is ready earliest.
  place_.resize(parameters_.size());
  seen_.assign(parameters_.size(), false);
  int64_t bytes_in_bucket = 0;
  for (size_t k = parameters_.size(); k-- > 0;) {
    const auto& p = parameters_[k];
    const int64_t bytes = p.numel() * static_cast<int64_t>(p.element_size());
    const bool new_bucket = buckets_.empty() || bytes_in_bucket + bytes > bucket_bytes ||
                            !parameters_[buckets_.back().parameters.front()].options().type_equal(p.options());
    if (new_bucket) {
      buckets_.emplace_back();
      bytes_in_bucket = 0;
    }
    auto& bucket = buckets_.back();
    place_[k] = {buckets_.size() - 1, bucket.parameters.size()};
    bucket.parameters.push_back(k);
    bucket.offsets.push_back(bucket.numel);
    bucket.numel += p.numel();
    bytes_in_bucket += bytes;
  }
  // The last bucket also carries a flag per parameter (1 where this rank
  // reached it), so that knowing which parameters some rank reached costs no
  // collective of its own. It starts last, when every flag is set.
  for (auto& bucket : buckets_) {
    const int64_t flags = &bucket == &buckets_.back() ? static_cast<int64_t>(parameters_.size()) : 0;
    bucket.flat =
        at::zeros({bucket.numel + flags}, parameters_[bucket.parameters.front()].options().requires_grad(false));
  }
  for (size_t k = 0; k < parameters_.size(); ++k)
    hooks_.push_back(parameters_[k].register_hook([this, k](const at::TensorBase& gradient) { on_gradient(k, gradient); }));
}

GradientSum::~GradientSum() {
  for (size_t k = 0; k < parameters_.size(); ++k) parameters_[k].remove_hook(hooks_[k]);
}

void GradientSum::begin() {
  for (auto& bucket : buckets_) {
    bucket.flat.zero_();
    bucket.ready = 0;
    bucket.pending.reset();
  }
  std::fill(seen_.begin(), seen_.end(), false);
  next_bucket_ = 0;
  armed_ = true;
}

void GradientSum::on_gradient(size_t parameter, const at::TensorBase& gradient) {
  if (!armed_ || seen_[parameter]) return;
  seen_[parameter] = true;
  auto& last = buckets_.back();
  last.flat.narrow(0, last.numel + static_cast<int64_t>(parameter), 1).fill_(1);
  const auto [b, slot] = place_[parameter];
  auto& bucket = buckets_[b];
  bucket.flat.narrow(0, bucket.offsets[slot], gradient.numel()).copy_(at::Tensor(gradient).reshape(-1));
  ++bucket.ready;
  start_ready_buckets();
}

void GradientSum::start_ready_buckets() {
  while (next_bucket_ < buckets_.size() && buckets_[next_bucket_].ready == buckets_[next_bucket_].parameters.size()) {
    buckets_[next_bucket_].pending = cluster_.start_sum(buckets_[next_bucket_].flat);
    ++next_bucket_;
  }
}

void GradientSum::finish() {
  armed_ = false;
  // Parameters the step did not reach keep zeros in their bucket.
  for (; next_bucket_ < buckets_.size(); ++next_bucket_)
    buckets_[next_bucket_].pending = cluster_.start_sum(buckets_[next_bucket_].flat);
  const auto start = std::chrono::steady_clock::now();
  for (auto& bucket : buckets_) bucket.pending->wait();
  wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  at::NoGradGuard no_grad;
  const auto reached_by_some_rank =
      buckets_.back().flat.narrow(0, buckets_.back().numel, static_cast<int64_t>(parameters_.size())).to(at::kCPU, at::kFloat);
  const auto* reached = reached_by_some_rank.data_ptr<float>();
  for (size_t k = 0; k < parameters_.size(); ++k) {
    if (reached[k] == 0) continue;
    const auto [b, slot] = place_[k];
    auto& p = parameters_[k];
    auto sum = buckets_[b].flat.narrow(0, buckets_[b].offsets[slot], p.numel()).view_as(p);
    if (p.grad().defined())
      p.mutable_grad().copy_(sum);
    else
      p.mutable_grad() = sum.clone();
  }
}

}  // namespace caudal
