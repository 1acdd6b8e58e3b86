#include "server/log_publisher.h"

#include <future>
#include <utility>

#include "base/log.h"

namespace infoflyt {

LogPublisher::LogPublisher(LogPublisherOptions options, std::unique_ptr<merkle::NoteSigner> signer,
                           Store* store, GroupCommitter* committer,
                           const asio::any_io_executor& executor)
    : options_(std::move(options)),
      signer_(std::move(signer)),
      store_(store),
      committer_(committer),
      timer_(executor) {}

void LogPublisher::Start() {
  StoredCheckpoint latest;
  if (store_->GetCheckpoint(0, &latest).ok()) last_published_.store(latest.tree_size);
  ArmTimer();
}

void LogPublisher::Stop() { timer_.cancel(); }

void LogPublisher::ArmTimer() {
  timer_.expires_after(options_.interval);
  timer_.async_wait([this](std::error_code ec) {
    if (ec) return;  // Stopped.
    if (store_->LogSize() > last_published_.load()) Publish(nullptr);
    ArmTimer();
  });
}

void LogPublisher::OnCommitted(uint64_t log_size) {
  if (log_size < last_published_.load() + options_.records) return;
  if (publishing_.exchange(true)) return;
  Publish([this](const Status&, const StoredCheckpoint&) { publishing_.store(false); });
}

void LogPublisher::Publish(Done done) {
  CheckpointOp op;
  op.sign = [this](uint64_t size, const std::string& root, std::string* note) {
    std::string text;
    if (Status s = merkle::Checkpoint{options_.origin, size, root, {}}.Format(&text); !s.ok()) {
      return s;
    }
    return signer_->SignNote(text, note);
  };
  committer_->Submit(std::move(op), [this, done = std::move(done)](WriteOp& w) {
    auto& done_op = std::get<CheckpointOp>(w);
    if (done_op.status.ok()) {
      uint64_t seen = last_published_.load();
      while (done_op.checkpoint.tree_size > seen &&
             !last_published_.compare_exchange_weak(seen, done_op.checkpoint.tree_size)) {
      }
    } else {
      LogWarning("signing a log checkpoint failed: " + done_op.status.message());
    }
    if (done) done(done_op.status, done_op.checkpoint);
  });
}

Status LogPublisher::Covering(uint64_t records, StoredCheckpoint* out) {
  Status s = store_->GetCheckpoint(0, out);
  if (s.code() != Code::kNotFound && (!s.ok() || out->tree_size >= records)) return s;
  std::promise<std::pair<Status, StoredCheckpoint>> signed_one;
  Publish([&signed_one](const Status& st, const StoredCheckpoint& cp) {
    signed_one.set_value({st, cp});
  });
  std::tie(s, *out) = signed_one.get_future().get();
  return s;
}

}  // namespace infoflyt
