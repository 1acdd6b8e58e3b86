#include "store/group_committer.h"

#include <vector>

#include "base/clock.h"

namespace infoflyt {

GroupCommitter::GroupCommitter(Store* store, size_t max_batch, Observer observer)
    : store_(store),
      max_batch_(max_batch),
      observer_(std::move(observer)),
      thread_([this] { Run(); }) {}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void GroupCommitter::Submit(WriteOp op, Done done) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back({std::move(op), std::move(done)});
  }
  cv_.notify_one();
}

void GroupCommitter::Run() {
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
    for (Pending& p : batch) p.done(p.op);
    batch.clear();
  }
}

}  // namespace infoflyt
