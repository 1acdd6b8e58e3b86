// Group commit: callers on many threads submit write ops; one committer thread applies everything
// queued so far in one store transaction, so concurrent posts share one fsync. While a commit is
// in flight, new ops queue up for the next one.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "store/store.h"

namespace infoflyt {

class GroupCommitter {
 public:
  // Called on the committer thread once the op's transaction is durable (or failed); must not
  // block.
  using Done = std::function<void(WriteOp&)>;

  // Called on the committer thread after each transaction with the number of ops it held.
  using Observer = std::function<void(size_t ops)>;

  GroupCommitter(Store* store, size_t max_batch, Observer observer = nullptr);
  // Commits what is queued, then stops.
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  void Submit(WriteOp op, Done done);

 private:
  struct Pending {
    WriteOp op;
    Done done;
  };
  void Run();

  Store* const store_;
  const size_t max_batch_;
  const Observer observer_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread thread_;  // Last: starts after everything above is initialised.
};

}  // namespace infoflyt
