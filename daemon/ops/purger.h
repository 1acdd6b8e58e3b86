// Erases what the retention rules of the legal-basis catalogue (core/retention.h) no longer let
// the store keep: a pass of PurgeOp batches through the group committer, at start and every
// store.purge_interval, on a thread of its own. Each pass that erases something says so in the
// log and the counters.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "base/status.h"
#include "core/catalogs.h"
#include "server/metrics.h"
#include "store/group_committer.h"

namespace infoflyt {

class Purger {
 public:
  // The rules in force. A pass takes them as it starts; one that finds newer rules recorded
  // (a reload) starts again under those.
  using Rules = std::function<std::shared_ptr<const Catalogs>()>;

  Purger(GroupCommitter* committer, Rules rules, Metrics* metrics)
      : committer_(committer), rules_(std::move(rules)), metrics_(metrics) {}
  Purger(const Purger&) = delete;
  Purger& operator=(const Purger&) = delete;

  // One whole pass now, on the calling thread (it blocks until the last batch is durable).
  Status RunPass();
  // A pass running ends after its current batch; none starts again. Any thread.
  void Stop() { stopping_ = true; }

 private:
  static constexpr size_t kBatch = 500;
  static constexpr int kRestarts = 3;  // Under newer rules, at most.
  // One batch of messages after `after` (and flags, if `after` is 0) under `rules`, waited for.
  PurgeOp Batch(uint64_t after, const std::shared_ptr<const Catalogs>& rules);
  GroupCommitter* const committer_;
  const Rules rules_;
  Metrics* const metrics_;
  std::atomic<bool> stopping_{false};
};

}  // namespace infoflyt
