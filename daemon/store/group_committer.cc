#include "store/group_committer.h"

#include <pthread.h>

#include <vector>

#include "base/clock.h"

namespace infoflyt {

GroupCommitter::GroupCommitter(Store* store, size_t max_batch, Observer observer)
    : store_(store),
      max_batch_(max_batch),
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
  {
    std::lock_guard lock(mu_);
    queue_.push_back({std::move(op), std::move(done)});
  }
  cv_.notify_one();
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
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    ops.clear();
    for (Pending& p : batch) ops.push_back(&p.op);
    const Status status = store_->Apply(ops, NowMicros());
    if (!status.ok()) {
      // The transaction failed as a whole: nothing took effect, every op reports it.
      for (WriteOp* op : ops) {
        std::visit([&](auto& o) { o.status = Status(Code::kUnavailable, status.message()); }, *op);
      }
    }
    if (observer_) observer_(batch.size());
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
