// Wakes the live subscription streams of parties that have new deliveries. Posting only calls
// Notify, which never blocks on a subscriber: it merely schedules each stream's own wake-up.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace infoflyt {

class SubscriptionHub {
 public:
  // Must not block; typically posts work to an executor.
  using Wake = std::function<void()>;

  // Adds a stream of `party` and sets `handle` for Remove, unless `party` already has `limit`
  // streams: then false, and nothing added.
  bool TryAdd(const std::string& party, size_t limit, Wake wake, uint64_t* handle);
  // After Remove returns, the wake function is not called again.
  void Remove(uint64_t handle);
  void Notify(const std::vector<std::string>& parties);
  // Wakes every stream: for when what was committed is not known (notifications were missed).
  void NotifyAll();

 private:
  struct Entry {
    std::string party;
    Wake wake;
  };
  std::mutex mu_;
  uint64_t next_handle_ = 1;
  std::map<uint64_t, Entry> entries_;
  std::multimap<std::string, uint64_t> by_party_;
};

}  // namespace infoflyt
