#include "ops/purger.h"

#include <future>
#include <string>

#include "base/log.h"

namespace infoflyt {

Status Purger::RunPass() {
  const std::shared_ptr<const LegalBasisCatalogue> rules = rules_();
  size_t messages = 0;
  size_t flags = 0;
  PurgeOp op;
  do {
    PurgeOp next;
    next.after = op.next;
    next.limit = kBatch;
    next.rules = rules;
    std::promise<PurgeOp> done;
    std::future<PurgeOp> result = done.get_future();
    committer_->Submit(std::move(next),
                       [&done](WriteOp& w) { done.set_value(std::move(std::get<PurgeOp>(w))); });
    op = result.get();
    if (!op.status.ok()) {
      LogError("retention: erasing stopped, to be tried again at the next pass: " +
               op.status.message());
      break;
    }
    messages += op.erased_messages;
    flags += op.erased_flags;
  } while (op.next != 0);
  metrics_->erased_messages.Increment(static_cast<double>(messages));
  metrics_->erased_flags.Increment(static_cast<double>(flags));
  if (messages + flags > 0) {
    LogInfo("event=retention_erased messages=" + std::to_string(messages) +
            " flags=" + std::to_string(flags) + ": bodies and flags past their retention erased");
  }
  return op.status;
}

}  // namespace infoflyt
