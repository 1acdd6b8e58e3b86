// Wakes the live subscription streams of parties that have new deliveries, and ends those whose
// caller is no longer trusted. Posting only calls Notify, which never blocks on a subscriber: it
// merely schedules each stream's own wake-up.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "server/peer_identity.h"

namespace infoflyt {

class SubscriptionHub {
 public:
  // Neither may block; typically they post work to an executor.
  using Wake = std::function<void()>;
  using End = std::function<void(const Status& why, const std::string& reason)>;

  // Whose streams: gRPC Subscribe calls and the web port's live pages are counted apart, so
  // open browser tabs never take a party's Subscribe streams.
  enum class Pool { kGrpc, kWeb };

  // Adds a stream of `caller` and sets `handle` for Remove, unless its party already has
  // `limit` streams in `pool`: then false, and nothing added.
  bool TryAdd(const Caller& caller, size_t limit, Wake wake, End end, uint64_t* handle,
              Pool pool = Pool::kGrpc);
  // After Remove returns, neither function of the stream is called again.
  void Remove(uint64_t handle);
  void Notify(const std::vector<std::string>& parties);
  // Wakes every stream: for when what was committed is not known (notifications were missed).
  void NotifyAll();
  // Ends each stream whose caller `check` refuses (setting the reason), with that refusal.
  // Returns how many were ended.
  size_t EndRefused(const std::function<Status(const Caller&, std::string* reason)>& check);

 private:
  struct Entry {
    Caller caller;
    Wake wake;
    End end;
    Pool pool;
  };
  std::mutex mu_;
  uint64_t next_handle_ = 1;
  std::map<uint64_t, Entry> entries_;
  std::multimap<std::string, uint64_t> by_party_;
};

}  // namespace infoflyt
