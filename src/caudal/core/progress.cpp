#include "caudal/core/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace caudal {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  const auto s = static_cast<int64_t>(seconds + 0.5);
  return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
}

bool Progress::on_terminal() { return isatty(fileno(stderr)) == 1; }

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(std::max<int64_t>(total, 1)),
      terminal_(on_terminal()),
      start_(Clock::now()),
      last_shown_(start_) {}

Progress::~Progress() { finish(); }

void Progress::advance(int64_t count) {
  done_ = std::min(total_, done_ + count);
  const auto now = Clock::now();
  const double since = std::chrono::duration<double>(now - last_shown_).count();
  if (since >= (terminal_ ? 0.1 : 30.0)) {
    last_shown_ = now;
    show();
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (terminal_ && drawn_) std::fprintf(stderr, "\r\033[K");  // clear the bar: the caller logs the outcome
  std::fflush(stderr);
}

void Progress::show() {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0;
  const double left = rate > 0 ? static_cast<double>(total_ - done_) / rate : 0;
  const std::string eta = done_ > 0 ? "ETA " + format_duration(left + seconds_after_) : "ETA --";
  if (terminal_) {
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(kWidth * done_ / total_);
    std::fprintf(stderr, "\r\033[K%s [%s%s] %lld/%lld %s, %.1f/s, %s", label_.c_str(), std::string(filled, '#').c_str(),
                 std::string(kWidth - filled, '.').c_str(), static_cast<long long>(done_), static_cast<long long>(total_),
                 unit_.c_str(), rate, eta.c_str());
    drawn_ = true;
  } else {
    std::fprintf(stderr, "%s: %lld/%lld %s (%.0f%%), %.1f/s, %s\n", label_.c_str(), static_cast<long long>(done_),
                 static_cast<long long>(total_), unit_.c_str(), 100.0 * static_cast<double>(done_) / static_cast<double>(total_),
                 rate, eta.c_str());
  }
  std::fflush(stderr);
}

}  // namespace caudal
