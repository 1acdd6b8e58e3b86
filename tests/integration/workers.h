// Test threads that are stopped and joined however the test ends: a failed assertion returns
// from the test body, and a std::thread still joinable then would std::terminate the process
// (losing every log), or one left waiting on a daemon that is gone would hang it.
#pragma once

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

namespace infoflyt::testing {

class Workers {
 public:
  Workers() = default;
  ~Workers() { StopAndJoin(); }
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  // Runs `body` on a thread of its own; it must return soon after stopping() turns true.
  void Add(std::function<void()> body) { threads_.emplace_back(std::move(body)); }
  void StopAndJoin() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  bool stopping() const { return stop_; }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace infoflyt::testing
