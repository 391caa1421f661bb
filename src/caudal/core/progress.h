// Progress of long work (training batches, evaluation, TADA's LIS, embedding,
// recommending for every user). On a terminal: one line on standard error,
// redrawn in place at most 10 times a second, with a bar, the count, the rate
// and an ETA; cleared when the work is done, so the plain log lines stay.
// Not on a terminal (a log file, a pipe, CI): a plain line at most every 30
// seconds, and nothing for work that ends sooner, so logs stay clean.
// Standard error, because standard output may carry results (`recommend`).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace caudal {

class Progress {
 public:
  // `label` leads the line ("epoch 3/30", "validation"); `unit` names what
  // is counted ("batches", "users").
  Progress(std::string label, int64_t total, std::string unit);
  ~Progress();  // finish()
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Seconds of known work that follow this one (later epochs, validation,
  // the test), added to the ETA so that it is the time to the end of the
  // whole job, not of this part.
  void set_seconds_after(double seconds) { seconds_after_ = seconds; }
  // For work whose size is known only once it starts.
  void set_total(int64_t total);
  void advance(int64_t count = 1);
  void finish();


 private:
  void show();

  using Clock = std::chrono::steady_clock;
  std::string label_, unit_;
  int64_t total_, done_ = 0;
  double seconds_after_ = 0;
  bool terminal_;  // standard error is a terminal: bars; otherwise plain lines
  bool finished_ = false, drawn_ = false;
  Clock::time_point start_, last_shown_;
};

// "1:02:03": hours, minutes, seconds.
std::string format_duration(double seconds);

}  // namespace caudal
