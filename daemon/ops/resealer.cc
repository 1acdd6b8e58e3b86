#include "ops/resealer.h"

#include "base/log.h"

namespace infoflyt {

ResealOp Resealer::Batch(uint64_t after) const {
  ResealOp op;
  op.after = after;
  op.limit = kBatch;
  op.in_clear = in_clear_;
  return op;
}

Resealer::~Resealer() {
  std::unique_lock lock(mu_);
  stopping_ = true;
  cv_.wait(lock, [this] { return !in_flight_; });
}

void Resealer::Finished(const Status& s) {
  if (!s.ok()) {
    LogError("resealing stored envelopes under data key " + key_id_ + " stopped: " + s.message());
    return;
  }
  const std::string line =
      "resealed " + std::to_string(resealed_) + " stored envelopes under data key " + key_id_;
  if (unreadable_ == 0) {
    LogInfo(line + "; no envelope is sealed under an older key any longer");
  } else {
    LogError(line + "; " + std::to_string(unreadable_) +
             " could not be opened and are left as they were");
  }
}

Status Resealer::RunToEnd() {
  Start();
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return !in_flight_; });
  return status_;
}

void Resealer::Start() {
  {
    std::lock_guard lock(mu_);
    in_flight_ = true;
  }
  SubmitFrom(0);
}

void Resealer::SubmitFrom(uint64_t after) {
  // The callback runs on the committer's completion thread: it must not block.
  committer_->Submit(Batch(after), [this](WriteOp& w) {
    const ResealOp& op = std::get<ResealOp>(w);
    {
      std::lock_guard lock(mu_);
      resealed_ += op.resealed;
      unreadable_ += op.unreadable;
      if (!op.status.ok() || op.next == 0 || stopping_) {
        if (!stopping_) Finished(op.status);
        status_ = op.status;
        in_flight_ = false;
        cv_.notify_all();
        return;
      }
    }
    SubmitFrom(op.next);  // Still in flight: the destructor waits for this batch too.
  });
}

}  // namespace infoflyt
