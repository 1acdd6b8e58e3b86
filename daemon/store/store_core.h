// The store's logic, written once above every backend (as Trillian and Tessera integrate their
// logs above storage): applying a batch in one transaction in which an op may fail alone,
// idempotent posts and their stored receipts, making every disclosure record, appending each to the
// Merkle log and choosing which of its nodes to keep, sharing one stored envelope between
// recipients given the same bytes, exactly-once escalation, and signing a checkpoint when the log
// grew. A backend only reads and writes rows (StoreRows) inside the transaction the core opens.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "infoflyt/v1/audit.pb.h"
#include "merkle/compact_range.h"
#include "store/log_nodes.h"
#include "store/store.h"

namespace infoflyt {

// A message already stored under a sender's idempotency key.
struct ExistingMessage {
  std::string message_id;
  std::string request_hash;
  int64_t accepted_at = 0;
};

// A message whose bodies are still stored, as the retention rules need it (PurgeOp).
struct RetainedMessage {
  uint64_t id = 0;  // The row's.
  std::string legal_basis;
  int64_t posted_at = 0;
  // When the last recipient acknowledged, if every one has.
  std::optional<int64_t> acknowledged_at;
};

// A stored envelope (not a sharing delivery's empty one), as sealed, and the content hash of
// its delivery's disclosure record.
struct StoredEnvelope {
  uint64_t delivery_id = 0;
  std::string message_id;
  std::string value;
  std::string content_hash;
};

// The rows of one backend, read and written through its writer inside the open transaction.
// Every method fails with the store's error contract (store.h): ALREADY_EXISTS or
// INVALID_ARGUMENT for values the database refused (the op fails alone), RESOURCE_EXHAUSTED for
// a full disk, UNAVAILABLE for a lost connection or a failed read or write, INTERNAL for SQL the
// database does not accept (those three fail the batch).
class StoreRows {
 public:
  virtual ~StoreRows() = default;

  virtual Status Begin() = 0;
  virtual Status Savepoint() = 0;
  virtual Status RollbackToSavepoint() = 0;
  virtual Status ReleaseSavepoint() = 0;
  // The end of an op: waits for the writes a backend sent without waiting for their answers
  // (PostgreSQL's pipeline), and returns the first failure among them, which is the op's.
  virtual Status EndOp() = 0;
  // Writes what goes with the commit (e.g. notifying other daemons of `ops`), then commits.
  virtual Status Commit(std::span<WriteOp* const> ops) = 0;
  virtual void Rollback() = 0;

  // Where several daemons append to one log: locks the stored log head until the transaction
  // ends and sets `size` to it. Where this process is the only writer: sets nothing.
  virtual Status LockLogHead(std::optional<uint64_t>* size) = 0;
  // Moves the stored log head, if the backend keeps one, to `size` (after appends).
  virtual Status SetLogHead(uint64_t size) = 0;
  // The stored log nodes, through the writer (what the open transaction sees).
  virtual const StoredNodes& Nodes() = 0;

  virtual Status FindMessage(std::string_view sender, std::string_view idempotency_key,
                             std::optional<ExistingMessage>* out) = 0;
  // The recipients given a delivery and the refusals recorded for message `message_id`, from
  // its disclosure records, each ordered by party.
  virtual Status ReadOutcomes(std::string_view message_id, StoredReceipt* receipt) = 0;
  // Inserts the message row (accepted at `now`) unless its sender has used its idempotency key
  // before; `id`, its key for InsertDeliveries, is left unset then.
  virtual Status InsertMessage(const NewMessage& m, int64_t now, std::optional<int64_t>* id) = 0;
  // Inserts one delivery of message `message` per recipient of `m`, storing sealed[i] (its
  // envelope, sealed), or nothing where same_as[i] names an earlier recipient whose stored
  // envelope it shares; `ids` are the delivery ids, in order.
  virtual Status InsertDeliveries(int64_t message, const NewMessage& m,
                                  const std::vector<std::optional<size_t>>& same_as,
                                  const std::vector<std::string>& sealed,
                                  std::vector<int64_t>* ids) = 0;
  // Up to `limit` stored envelopes with delivery id > `after` that do not start with `header`
  // (the current key's: those need no resealing), in id order.
  virtual Status ReadEnvelopes(uint64_t after, std::string_view header, size_t limit,
                               std::vector<StoredEnvelope>* out) = 0;
  // Replaces the stored envelope of `delivery` with `value`.
  virtual Status UpdateEnvelope(uint64_t delivery, std::string_view value) = 0;
  // Up to `limit` messages with id > `after`, posted at or before `posted_before`, whose bodies
  // are not erased, in id order.
  virtual Status ReadRetainedMessages(uint64_t after, int64_t posted_before, size_t limit,
                                      std::vector<RetainedMessage>* out) = 0;
  // Empties the stored envelopes of message `message` (its row id) and marks its deliveries
  // erased at `now`; `deliveries` are their ids.
  virtual Status EraseBodies(uint64_t message, int64_t now, std::vector<uint64_t>* deliveries) = 0;
  // The flags that ended (unflagged, or expired by `now`) and are not erased.
  virtual Status ReadEndedFlags(int64_t now, std::vector<FlagInfo>* out) = 0;
  // Empties flag `flag_id`'s person and reason and marks it erased at `now`.
  virtual Status EraseFlag(std::string_view flag_id, int64_t now) = 0;
  // Inserts `record` as is, at its index (the next leaf's).
  virtual Status InsertRecord(const v1::DisclosureRecord& record) = 0;
  // Inserts log nodes (leaves and completed subtrees).
  virtual Status InsertNodes(std::span<const merkle::Node> nodes) = 0;
  virtual Status LatestCheckpoint(std::optional<StoredCheckpoint>* out) = 0;
  virtual Status InsertCheckpoint(const StoredCheckpoint& c) = 0;
  // Marks `delivery` escalated at `now` if it has a deadline and is neither acknowledged nor
  // escalated; `marked` says whether it was.
  virtual Status MarkEscalated(uint64_t delivery, int64_t now, bool* marked) = 0;
  // Acknowledges `party`'s unacknowledged `delivery`; `changed` says whether there was one.
  virtual Status Acknowledge(std::string_view party, uint64_t delivery, int64_t now,
                             bool* changed) = 0;
  virtual Status DeliveryExists(std::string_view party, uint64_t delivery, bool* exists) = 0;
  // The disclosure record of `delivery`; nullopt if there is none.
  virtual Status DisclosureOf(uint64_t delivery, std::optional<v1::DisclosureRecord>* out) = 0;
  // Marks `party`'s `delivery` received at `now` (if it was not), and if `unreadable`, found
  // unreadable at `now` (if it was not).
  virtual Status MarkReceived(std::string_view party, uint64_t delivery, int64_t now,
                              bool unreadable) = 0;
  // Inserts op.flag (flagged at `now`) on op.subject_hash.
  virtual Status InsertFlag(const FlagOp& op, int64_t now) = 0;
  // Flag `flag_id`; nullopt if there is no such flag.
  virtual Status FindFlag(std::string_view flag_id, std::optional<FlagInfo>* flag) = 0;
  // The flags on `subject_hash` (all if empty), newest first, inactive ones too if asked.
  virtual Status ReadFlags(std::string_view subject_hash, bool include_inactive, int64_t now,
                           std::vector<FlagInfo>* out) = 0;
  // Ends flag `flag_id` (by `party`, at `now`) if it is active; `after` is the flag as it then
  // stands, nullopt if there is no such flag.
  virtual Status Unflag(std::string_view flag_id, std::string_view party, int64_t now,
                        std::optional<FlagInfo>* after) = 0;
  // Keeps `text` under its SHA-256 `sha256` (first kept at `now`) unless it is kept already.
  virtual Status KeepPolicyText(const PolicyText& text, int64_t now) = 0;
};

class StoreCore {
 public:
  // `instance` and `version` are recorded in every disclosure record.
  StoreCore(std::string instance, std::string version)
      : instance_(std::move(instance)), version_(std::move(version)) {}

  // Loads the log's right edge at `size` from `nodes` (at open).
  Status LoadLog(const StoredNodes& nodes, uint64_t size);
  // Applies `ops` at `now` in one transaction of `rows`: Store::Apply.
  Status Apply(StoreRows& rows, std::span<WriteOp* const> ops, int64_t now);
  // Inside a transaction of `rows` of a single-writer backend (no log head to lock): appends
  // `record` (already stored, e.g. one written before the log existed; its index the next
  // leaf's) to the log, storing the nodes that are kept.
  Status AppendStored(StoreRows& rows, const v1::DisclosureRecord& record);
  // Records in the log as of the last commit (or LoadLog).
  uint64_t LogSize() const { return log_size_.load(); }

  // The data keys envelopes are sealed with; until they are set, posts fail (INTERNAL) and every
  // stored envelope reads as unreadable. May be called from any thread.
  void SetDataKeys(std::shared_ptr<const DataKeys> keys) { data_keys_.store(std::move(keys)); }
  // Opens the envelopes of `deliveries` as read from the rows, in place; one that does not open
  // is marked unreadable and its body dropped, with an error line naming the delivery. One
  // sealed under a key this daemon lacks fails the read (UNAVAILABLE), marking nothing. Any
  // thread.
  Status OpenDeliveries(std::vector<StoredDelivery>* deliveries) const;

 private:
  // Whether the batch may go on after an op that failed with `s` (rolled back alone).
  static bool FailsOnlyTheOp(const Status& s);
  // One run of Apply: with a savepoint per op, or with none, then stopping at the first op that
  // fails alone (`an_op_failed`), having rolled everything back.
  Status ApplyBatch(StoreRows& rows, std::span<WriteOp* const> ops, int64_t now, bool savepoints,
                    bool* an_op_failed);
  Status ApplyOp(StoreRows& rows, PostOp& op, int64_t now);
  Status ApplyOp(StoreRows& rows, AckOp& op, int64_t now);
  static Status ApplyOp(StoreRows& rows, ReceivedOp& op, int64_t now);
  Status ApplyOp(StoreRows& rows, FlagOp& op, int64_t now);
  Status ApplyOp(StoreRows& rows, UnflagOp& op, int64_t now);
  Status ApplyOp(StoreRows& rows, ListFlagsOp& op, int64_t now);
  // A record about `delivery` after its disclosure record (`disclosed`, read here), at `now`:
  // `event` and `outcome` set, and the message, delivery, person, basis, handling and
  // on_behalf_of as the disclosure has them; the caller sets the parties and the reason.
  Status FollowDisclosure(StoreRows& rows, uint64_t delivery, std::string_view event,
                          std::string_view outcome, int64_t now, v1::DisclosureRecord* disclosed,
                          v1::DisclosureRecord* out);
  // The "acknowledge" record of `op`'s newly acknowledged `delivery`.
  Status AppendAcknowledgement(StoreRows& rows, const AckOp& op, uint64_t delivery, int64_t now);
  // A registry act's record: by `caller`, about `subject_hash`, message type "flag".
  v1::DisclosureRecord RegistryRecord(const RegistryCaller& caller, std::string_view event,
                                      std::string_view subject_hash, int64_t now) const;
  Status ApplyOp(StoreRows& rows, EscalateOp& op, int64_t now);
  Status ApplyOp(StoreRows& rows, CallRecordOp& op, int64_t now);
  Status ApplyOp(StoreRows& rows, CheckpointOp& op, int64_t now);
  Status ApplyOp(StoreRows& rows, PolicyOp& op, int64_t now);
  Status ApplyOp(StoreRows& rows, ResealOp& op, int64_t now);
  Status ApplyOp(StoreRows& rows, PurgeOp& op, int64_t now);
  // The "erase" record of `delivery`'s body, erased under `rule`.
  Status AppendErasure(StoreRows& rows, uint64_t delivery, const std::string& rule, int64_t now);
  // PurgeOp's flags: erases those due at `now`, each with its erase record.
  Status EraseEndedFlags(StoreRows& rows, PurgeOp& op, int64_t now);
  // ABORTED if what an op carries was decided under rules (generation `decided_under`) older
  // than the ones recorded last.
  Status CheckPolicy(uint64_t decided_under) const;
  // Under the log head's lock (where there is one): follows appends by other daemons.
  Status FollowLogHead(StoreRows& rows);
  // A post whose key its sender used before: the first receipt, or FAILED_PRECONDITION if the
  // key was used for a different message.
  static Status Duplicate(StoreRows& rows, const NewMessage& m, const ExistingMessage& existing,
                          StoredReceipt* receipt);
  // Stores a new message: its refusal records and, if it has recipients (then inserted as
  // `message`), one delivery and disclosure record per recipient.
  Status StoreMessage(StoreRows& rows, const NewMessage& m, int64_t now,
                      std::optional<int64_t> message, StoredReceipt* receipt);
  // The next record (index, instance and version set) at `now`.
  v1::DisclosureRecord NextRecord(int64_t now) const;
  // Stores `record` and appends it to the log.
  Status Append(StoreRows& rows, const v1::DisclosureRecord& record);

  const std::string instance_;
  const std::string version_;
  // The log's right edge as of the open transaction. Restored when a transaction or an op's
  // savepoint rolls back, so it always matches the stored nodes.
  merkle::CompactRange log_;
  std::atomic<uint64_t> log_size_{0};  // Committed size.
  // The open batch may append: it holds the log head's lock (where there is one). Appends and
  // checkpoints check it, so that an op missing from TouchesLog fails rather than appends
  // unlocked.
  bool log_locked_ = false;
  // The generation of the rules recorded last, as of the open transaction (restored as log_).
  uint64_t policy_ = 0;
  std::atomic<std::shared_ptr<const DataKeys>> data_keys_;
};

}  // namespace infoflyt
