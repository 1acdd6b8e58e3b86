#include "ops/purger.h"

#include <future>
#include <string>

#include "base/log.h"

namespace infoflyt {

PurgeOp Purger::Batch(uint64_t after, const std::shared_ptr<const Catalogs>& rules) {
  PurgeOp op;
  op.after = after;
  op.limit = kBatch;
  op.rules = LegalBasesOf(rules);
  op.policy = rules->policy;
  std::promise<PurgeOp> done;
  std::future<PurgeOp> result = done.get_future();
  committer_->Submit(std::move(op),
                     [&done](WriteOp& w) { done.set_value(std::move(std::get<PurgeOp>(w))); });
  return result.get();
}

Status Purger::RunPass() {
  size_t messages = 0;
  size_t flags = 0;
  Status status;
  for (int attempt = 0; attempt <= kRestarts && !stopping_; ++attempt) {
    const std::shared_ptr<const Catalogs> rules = rules_();
    uint64_t after = 0;
    do {
      PurgeOp op = Batch(after, rules);
      status = op.status;
      if (!status.ok()) break;
      messages += op.erased_messages;
      flags += op.erased_flags;
      after = op.next;
    } while (after != 0 && !stopping_);
    if (status.code() != Code::kAborted) break;  // Else: rules newer than the pass's.
  }
  if (!status.ok()) {
    LogError("retention: erasing stopped, to be tried again at the next pass: " + status.message());
  }
  metrics_->erased_messages.Increment(static_cast<double>(messages));
  metrics_->erased_flags.Increment(static_cast<double>(flags));
  if (messages + flags > 0) {
    LogInfo("event=retention_erased messages=" + std::to_string(messages) +
            " flags=" + std::to_string(flags) + ": bodies and flags past their retention erased");
  }
  return status;
}

}  // namespace infoflyt
