#include "base/periodic_thread.h"

namespace infoflyt {

PeriodicThread::PeriodicThread(std::chrono::milliseconds interval, std::function<void()> run,
                               First first)
    : interval_(interval), run_(std::move(run)), thread_([this, first] {
        if (first == First::kRunAtOnce) run_();
        std::unique_lock lock(mu_);
        while (!cv_.wait_for(lock, interval_, [this] { return stop_; })) {
          lock.unlock();
          run_();
          lock.lock();
        }
      }) {}

PeriodicThread::~PeriodicThread() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

}  // namespace infoflyt
