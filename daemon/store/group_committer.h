// Group commit: callers on many threads submit write ops; one committer thread applies everything
// queued so far in one store transaction, so concurrent posts share one fsync. While a commit is
// in flight, new ops queue up for the next one. A second thread runs the callers' completions, so
// answering callers (a TLS write each) overlaps the next transaction instead of delaying it.
// Marks of deliveries received, which nobody waits for, ride with the next op someone does
// wait for, or are committed on their own after kReceivedMarkDelay: at a steady rate of posts
// that halves the transactions (and fsyncs) without delaying anyone.
#pragma once

#include <chrono>
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
  static constexpr std::chrono::milliseconds kReceivedMarkDelay{20};

  // Called on the completion thread once the op's transaction is durable (or failed), in commit
  // order; must not block.
  using Done = std::function<void(WriteOp&)>;

  // Called on the committer thread after each transaction with the number of ops it held, how
  // the transaction as a whole went (an op's own refusal is in the op) and how long it took.
  using Observer = std::function<void(size_t ops, const Status& transaction, double seconds)>;

  // At most `max_queued` ops a client asked for (posts, acks, flags, recorded calls) wait at a
  // time: more would only queue work nobody waits for, while memory grows.
  GroupCommitter(Store* store, size_t max_batch, size_t max_queued, Observer observer = nullptr);
  // Commits what is queued, runs its completions, then stops.
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Queues `op`, or, if it is a client's and `max_queued` of those wait already, completes it at
  // once (on this thread) with RESOURCE_EXHAUSTED and nothing stored: the client may retry. Once
  // the committer is stopping, every op is completed at once with UNAVAILABLE.
  void Submit(WriteOp op, Done done);

 private:
  struct Pending {
    WriteOp op;
    Done done;
    std::chrono::steady_clock::time_point queued_at;
  };
  void Run();
  void RunCompletions();

  Store* const store_;
  const size_t max_batch_;
  const size_t max_queued_;
  const Observer observer_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  size_t queued_for_clients_ = 0;  // Ops of queue_ that count against max_queued_.
  size_t queued_urgent_ = 0;       // Ops of queue_ that are not received marks.
  bool stopping_ = false;
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  std::deque<std::vector<Pending>> committed_;  // Batches whose completions have not run.
  bool committer_done_ = false;
  // Last: they start after everything above is initialised.
  std::thread completion_thread_;
  std::thread thread_;
};

}  // namespace infoflyt
