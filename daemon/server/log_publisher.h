// Signs checkpoints of the disclosure log (C2SP tlog-checkpoint notes, Ed25519): every
// `interval` if the log has grown, as soon as `records` records were appended since the last,
// and on demand. Checkpoints are made by a CheckpointOp in the group committer, so a checkpoint
// commits to exactly the records that are durable, in the order they were appended.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "merkle/signed_note.h"
#include "store/group_committer.h"
#include "store/store.h"

namespace infoflyt {

struct LogPublisherOptions {
  std::string origin;  // The checkpoint's origin line: the log's name.
  std::chrono::milliseconds interval{10000};
  uint64_t records = 1000;
};

class LogPublisher {
 public:
  using Done = std::function<void(const Status&, const StoredCheckpoint&)>;

  LogPublisher(LogPublisherOptions options, std::unique_ptr<merkle::NoteSigner> signer,
               Store* store, GroupCommitter* committer, const asio::any_io_executor& executor);
  LogPublisher(const LogPublisher&) = delete;
  LogPublisher& operator=(const LogPublisher&) = delete;

  // Starts the interval timer. Call once serving.
  void Start();
  // Cancels the timer; call before the executor stops.
  void Stop();
  // After each commit, with the log's size: publishes if `records` have been appended.
  void OnCommitted(uint64_t log_size);
  // Signs a checkpoint of the log as it stands (or returns the latest if it has not grown).
  // `done` runs on the committer thread and must not block.
  void Publish(Done done);
  // The latest checkpoint if it holds at least `records` records, else a new one signed now;
  // blocks until it is durable, so call it from a store-reading thread, never the committer's.
  Status Covering(uint64_t records, StoredCheckpoint* out);

  // The log's public key in note verifier-key format.
  std::string VerifierKey() const { return signer_->VerifierKey(); }
  const std::string& origin() const { return options_.origin; }

 private:
  void ArmTimer();

  const LogPublisherOptions options_;
  const std::unique_ptr<merkle::NoteSigner> signer_;
  Store* const store_;
  GroupCommitter* const committer_;
  asio::steady_timer timer_;
  std::atomic<uint64_t> last_published_{0};
  std::atomic<bool> publishing_{false};  // A threshold-triggered publish is in flight.
};

}  // namespace infoflyt
