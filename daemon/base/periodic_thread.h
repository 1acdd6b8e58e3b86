// Runs a function every interval on a thread of its own, until destroyed. For checks that may
// block (file reads, network probes), which must not run on the daemon's event loop.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace infoflyt {

class PeriodicThread {
 public:
  // The first run is one `interval` from now, or, with kRunAtOnce, at once.
  enum class First { kAfterInterval, kRunAtOnce };
  PeriodicThread(std::chrono::milliseconds interval, std::function<void()> run,
                 First first = First::kAfterInterval);
  ~PeriodicThread();  // Waits for a run in progress, then stops.
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

 private:
  const std::chrono::milliseconds interval_;
  const std::function<void()> run_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;  // Last: starts once the rest is set.
};

}  // namespace infoflyt
