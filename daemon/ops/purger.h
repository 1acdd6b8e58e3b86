// Erases what the retention rules of the legal-basis catalogue (core/retention.h) no longer let
// the store keep: a pass of PurgeOp batches through the group committer, at start and every
// store.purge_interval, on a thread of its own. Each pass that erases something says so in the
// log and the counters.
#pragma once

#include <functional>
#include <memory>

#include "base/periodic_thread.h"
#include "base/status.h"
#include "core/legal_basis.h"
#include "server/metrics.h"
#include "store/group_committer.h"

namespace infoflyt {

class Purger {
 public:
  // The rules in force when a pass starts (a reload applies from the next pass).
  using Rules = std::function<std::shared_ptr<const LegalBasisCatalogue>()>;

  Purger(GroupCommitter* committer, Rules rules, Metrics* metrics)
      : committer_(committer), rules_(std::move(rules)), metrics_(metrics) {}
  Purger(const Purger&) = delete;
  Purger& operator=(const Purger&) = delete;

  // One whole pass now, on the calling thread (it blocks until the last batch is durable).
  Status RunPass();

 private:
  static constexpr size_t kBatch = 500;
  GroupCommitter* const committer_;
  const Rules rules_;
  Metrics* const metrics_;
};

}  // namespace infoflyt
