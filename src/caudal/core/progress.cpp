#include "caudal/core/progress.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
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

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(std::max<int64_t>(total, 1)),
      terminal_(isatty(fileno(stderr)) == 1),
      start_(Clock::now()),
      last_shown_(start_) {}

Progress::~Progress() { finish(); }

void Progress::set_total(int64_t total) {
  total_ = std::max<int64_t>(total, 1);
  done_ = std::min(done_, total_);
}

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
    // One terminal row, or the next redraw would clear only the row it wrapped to: the bar goes first, then the rate.
    winsize size{};
    const int columns = ioctl(fileno(stderr), TIOCGWINSZ, &size) == 0 && size.ws_col > 0 ? size.ws_col : 80;
    const std::string count = fmt::format("{}/{} {}", done_, total_, unit_);
    std::string line = fmt::format("{} {}, {:.1f}/s, {}", label_, count, rate, eta);
    constexpr int64_t kWidth = 24;
    if (static_cast<int>(line.size() + kWidth + 3) < columns) {
      const auto filled = static_cast<size_t>(kWidth * done_ / total_);
      line = fmt::format("{} [{}{}] {}, {:.1f}/s, {}", label_, std::string(filled, '#'), std::string(kWidth - filled, '.'), count,
                         rate, eta);
    } else if (static_cast<int>(line.size()) >= columns) {
      line = fmt::format("{} {}, {}", label_, count, eta).substr(0, static_cast<size_t>(std::max(columns - 1, 1)));
    }
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    drawn_ = true;
  } else {
    std::fprintf(stderr, "%s: %lld/%lld %s (%.0f%%), %.1f/s, %s\n", label_.c_str(), static_cast<long long>(done_),
                 static_cast<long long>(total_), unit_.c_str(), 100.0 * static_cast<double>(done_) / static_cast<double>(total_),
                 rate, eta.c_str());
  }
  std::fflush(stderr);
}

}  // namespace caudal
