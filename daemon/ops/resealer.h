// A pass over every stored envelope that seals it under the current data key (ResealOp in
// batches through the group committer): after `infoflytd rotate-data-key`, so that old keys end
// up sealing nothing, and once after an upgrade from a version that stored envelopes in clear.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

#include "base/status.h"
#include "store/group_committer.h"

namespace infoflyt {

class Resealer {
 public:
  // `in_clear`: envelopes stored in clear are sealed too (only right after an upgrade).
  // `key_id` is the current key's, for the log lines.
  Resealer(GroupCommitter* committer, bool in_clear, std::string key_id)
      : committer_(committer), in_clear_(in_clear), key_id_(std::move(key_id)) {}
  // Stops a pass in the background after its current batch.
  ~Resealer();
  Resealer(const Resealer&) = delete;
  Resealer& operator=(const Resealer&) = delete;

  // The whole pass in the background, one batch after another.
  void Start();
  // Start, then waits for the pass to end (before the daemon serves); how it ended.
  Status RunToEnd();

 private:
  static constexpr size_t kBatch = 500;
  ResealOp Batch(uint64_t after) const;  // The next batch, of deliveries after `after`.
  void SubmitFrom(uint64_t after);
  void Finished(const Status& s);

  GroupCommitter* const committer_;
  const bool in_clear_;
  const std::string key_id_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool in_flight_ = false;
  size_t resealed_ = 0;
  size_t unreadable_ = 0;
  Status status_;  // Of the batch the pass ended with.
};

}  // namespace infoflyt
