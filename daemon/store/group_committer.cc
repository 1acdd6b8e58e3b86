#include "store/group_committer.h"

#include <pthread.h>

#include <chrono>
#include <vector>

#include "base/clock.h"

namespace infoflyt {

namespace {

// The ops a client's call waits for; the daemon's own (deliveries marked received, escalations,
// checkpoints) are never refused.
bool ForClient(const WriteOp& op) {
  return std::holds_alternative<PostOp>(op) || std::holds_alternative<AckOp>(op) ||
         std::holds_alternative<FlagOp>(op) || std::holds_alternative<UnflagOp>(op) ||
         std::holds_alternative<ListFlagsOp>(op) || std::holds_alternative<CallRecordOp>(op);
}

// A delivery marked received: nobody waits for it, so it may wait for company.
bool Deferrable(const WriteOp& op) { return std::holds_alternative<ReceivedOp>(op); }

}  // namespace

GroupCommitter::GroupCommitter(Store* store, size_t max_batch, size_t max_queued, Observer observer)
    : store_(store),
      max_batch_(max_batch),
      max_queued_(max_queued),
      observer_(std::move(observer)),
      completion_thread_([this] { RunCompletions(); }),
      thread_([this] { Run(); }) {}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  {
    std::lock_guard lock(done_mu_);
    committer_done_ = true;
  }
  done_cv_.notify_all();
  completion_thread_.join();
}

void GroupCommitter::Submit(WriteOp op, Done done) {
  const bool for_client = ForClient(op);
  bool stopping = false;
  {
    std::lock_guard lock(mu_);
    stopping = stopping_;
    if (!stopping && (!for_client || queued_for_clients_ < max_queued_)) {
      queued_for_clients_ += for_client;
      queued_urgent_ += !Deferrable(op);
      queue_.push_back({std::move(op), std::move(done), std::chrono::steady_clock::now()});
      cv_.notify_one();
      return;
    }
  }
  const Status refused =
      stopping ? Status(Code::kUnavailable, "the daemon is stopping")
               : Status(Code::kResourceExhausted,
                        "the store's commit queue is full (" + std::to_string(max_queued_) +
                            " operations wait, store.max_queued_ops): retry shortly");
  std::visit([&refused](auto& o) { o.status = refused; }, op);
  done(op);
}

void GroupCommitter::Run() {
  pthread_setname_np(pthread_self(), "committer");  // Named for top -H, perf and gdb.
  std::vector<Pending> batch;
  std::vector<WriteOp*> ops;
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // Stopping and drained.
      // Only received marks queued: they wait for an op to ride with, for a while.
      cv_.wait_until(lock, queue_.front().queued_at + kReceivedMarkDelay,
                     [&] { return stopping_ || queued_urgent_ > 0; });
      while (!queue_.empty() && batch.size() < max_batch_) {
        queued_for_clients_ -= ForClient(queue_.front().op);
        queued_urgent_ -= !Deferrable(queue_.front().op);
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    ops.clear();
    for (Pending& p : batch) ops.push_back(&p.op);
    const auto start = std::chrono::steady_clock::now();
    const Status status = store_->Apply(ops, NowMicros());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!status.ok()) {
      // The transaction failed as a whole: nothing took effect, every op reports it.
      for (WriteOp* op : ops) {
        std::visit([&](auto& o) { o.status = Status(Code::kUnavailable, status.message()); }, *op);
      }
    }
    if (observer_) observer_(batch.size(), status, seconds);
    {
      std::lock_guard lock(done_mu_);
      committed_.push_back(std::move(batch));
    }
    done_cv_.notify_one();
    batch.clear();  // Moved-from: make it valid and empty for the next round.
  }
}

void GroupCommitter::RunCompletions() {
  pthread_setname_np(pthread_self(), "commit-done");
  while (true) {
    std::vector<Pending> batch;
    {
      std::unique_lock lock(done_mu_);
      done_cv_.wait(lock, [&] { return committer_done_ || !committed_.empty(); });
      if (committed_.empty()) return;  // The committer has stopped and everything ran.
      batch = std::move(committed_.front());
      committed_.pop_front();
    }
    for (Pending& p : batch) p.done(p.op);
  }
}

}  // namespace infoflyt
