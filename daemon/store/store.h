// The store: where messages, deliveries and disclosure records live. One interface, satisfied by
// the embedded SQLite store and (later) PostgreSQL. Writes come in batches applied in ONE
// durable transaction, so the group committer can make many posts share one fsync.
// Every disclosure record is appended, in the transaction that writes it, to the disclosure log:
// an RFC 9162 Merkle tree whose perfect-subtree hashes the store keeps (see merkle/), so proofs
// and roots for any size come from O(log n) stored nodes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"
#include "core/audit_scope.h"
#include "core/disclosure_plan.h"
#include "core/legal_basis.h"
#include "core/statistics.h"
#include "infoflyt/v1/audit.pb.h"
#include "store/data_keys.h"

namespace infoflyt {

// A validated, routed message with the policy's decisions, ready to be stored.
struct NewMessage {
  std::string message_id;          // Assigned by the caller (a UUID).
  std::string event = "disclose";  // The disclosure records' event: "disclose" or "escalate".
  std::string sender;              // Party key, "<kind>/<id>".
  std::string idempotency_key;     // Unique per sender.
  std::string request_hash;        // SHA-256 of the envelope as posted: detects reuse of a key.
  std::string message_type;        // "release_notice", ...
  std::string legal_basis;         // Catalogue id.
  std::string legal_citation;      // The basis's citation, as recorded for auditors.
  std::string handling;            // TLP level name.
  std::string subject_hash;        // Keyed hash of the data subject's identity number.
  std::string sender_certificate_subject;       // The certificate the sender used ...
  std::string sender_certificate_fingerprint;   // ... and its SHA-256, hex.
  std::vector<RecipientDisclosure> recipients;  // One delivery and disclosure record each.
  std::vector<RecipientRefusal> refusals;       // One refusal record each.
  // The rules it was decided under (PolicyOp.generation); 0: not checked. ABORTED, storing
  // nothing, if newer rules were recorded since: every disclosure after a "policy" record (of
  // this instance) was decided under that record's rules.
  uint64_t policy = 0;
};

// Recipients and refusals include those on another party's behalf (the hub wakes them all); the
// sender is shown only its own (see DisclosureRecord.on_behalf_of). A duplicate's receipt, read
// back from the records, holds only the sender's own.
struct StoredReceipt {
  std::string message_id;
  std::vector<std::string> recipients;
  std::vector<RecipientRefusal> refusals;
  int64_t accepted_at = 0;  // Microseconds since the epoch.
  bool duplicate = false;   // The stored receipt of an earlier post with the same key.
};

// Operations a write batch can hold. Inputs first, then results the store fills in. An op whose
// status is not OK changed nothing.
struct PostOp {
  NewMessage message;
  Status status;
  StoredReceipt receipt;
};
// Acknowledges deliveries of `party`. Each one newly acknowledged is an "acknowledge" record in
// the disclosure log, in the same transaction: who, which delivery of which message, when (no
// content); its reason names the disclosure record it acknowledges.
struct AckOp {
  std::string party;
  std::vector<uint64_t> delivery_ids;
  Status status;
  uint32_t newly_acknowledged = 0;
  std::string certificate_subject;      // The acknowledging party's certificate ...
  std::string certificate_fingerprint;  // ... and its SHA-256, hex.
};
// The delivery was written to one of the recipient's subscription streams; `unreadable`: as a
// delivery whose stored body could not be read (the sender's status then says so).
struct ReceivedOp {
  std::string party;
  uint64_t delivery_id = 0;
  Status status;
  bool unreadable = false;
};
// Who acts on the registry, as its records name them.
struct RegistryCaller {
  std::string party;  // Party key; the flag's owner for a FlagOp.
  PartyKind kind = PartyKind::kOperator;
  std::string certificate_subject;
  std::string certificate_fingerprint;
  // The rules the call was decided under, as NewMessage.policy: ABORTED if newer ones were
  // recorded since.
  uint64_t policy = 0;
};
// Registry acts are records in the disclosure log, in the act's transaction (event "flag",
// "unflag", and for a lookup "read" plus one "disclose" per flag of another party it shows);
// the person only as the keyed hash. Ownership and visibility follow `rules`, the catalogue
// the call started with.
// Flags a person. A flag_id already stored: ALREADY_EXISTS with `flag` set to the stored flag
// if it is this same flag (a form sent twice), else FAILED_PRECONDITION; neither stores anything.
struct FlagOp {
  FlagInfo flag;  // flag_id and flagged_by assigned by the caller; flagged_at set by the store.
  std::string subject_hash;  // Keyed hash of the person's identity number.
  RegistryCaller caller;
  std::string legal_citation;  // Of flag.legal_basis.
  Status status;
};
// Ends a flag: PERMISSION_DENIED, changing nothing, unless the rules let the caller end it
// (its owner may); NOT_FOUND if there is no such flag.
struct UnflagOp {
  std::string flag_id;
  RegistryCaller caller;
  std::shared_ptr<const LegalBasisCatalogue> rules;
  Status status;
  FlagInfo result;  // The flag as it stands after.
};
// A lookup: the flags on `subject_hash` (every flag if empty) that the caller may see, newest
// first.
struct ListFlagsOp {
  std::string subject_hash;
  bool include_inactive = false;
  std::string reason;  // The call, for the lookup's "read" record; never an identity number.
  RegistryCaller caller;
  std::shared_ptr<const LegalBasisCatalogue> rules;
  Status status;
  std::vector<FlagInfo> flags;
};
// Escalates one overdue delivery: marks it escalated and stores `escalation` (infoflytd's own
// message to the original sender and the police) in the same transaction. FAILED_PRECONDITION,
// storing nothing, if the delivery has no deadline, is acknowledged or was escalated before:
// whatever the timers do, a delivery is escalated at most once.
struct EscalateOp {
  uint64_t delivery_id = 0;
  NewMessage escalation;
  Status status;
  StoredReceipt receipt;
};
// A call recorded in the log by itself, before it is answered: an auditor's read of the log
// (event "read", outcome "read"), or a call refused to a registered party (event "deny",
// outcome "refused": who, which call, why; nothing of the request).
struct CallRecordOp {
  std::string event = "read";
  std::string party;  // Party key.
  std::string certificate_subject;
  std::string certificate_fingerprint;
  std::string subject_hash;  // The person looked up, if any (keyed hash).
  std::string reason;        // The call and its filters, or why it was refused; never an
                             // identity number.
  Status status;
  uint64_t index = 0;  // The call's own record.
};

struct StoredCheckpoint {
  uint64_t tree_size = 0;
  std::string root;
  std::string note;  // The signed note, verbatim.
  int64_t signed_at = 0;
};

// Signs and keeps a checkpoint of the log as it stands after the batch's earlier ops. If the
// tree has not grown since the latest checkpoint, stores nothing and returns that one.
struct CheckpointOp {
  // Makes the signed note for a tree size and root; called inside the transaction.
  std::function<Status(uint64_t size, const std::string& root, std::string* note)> sign;
  Status status;
  StoredCheckpoint checkpoint;
};
// One text of the rules the daemon loaded (the legal-basis catalogue, the parties registry, the
// places data), by the name of what it is, e.g. "legal-bases".
struct PolicyText {
  std::string name;
  std::string text;
  std::string sha256;  // Set by the store.
};
// The rules in force from now on, at start and at every reload: each text is kept by its
// SHA-256 (once, whatever the number of times it is loaded), and a "policy" record names the
// hashes and the daemon's version, in one transaction. `generation` (increasing, from 1) is
// what messages decided under these rules carry (NewMessage.policy).
struct PolicyOp {
  uint64_t generation = 0;
  std::vector<PolicyText> texts;
  Status status;
  uint64_t index = 0;  // The policy record.
};
// Seals stored envelopes again under the current data key (after a rotation): looks at up to
// `limit` stored envelopes with delivery id > `after`, in id order, and reseals those sealed
// under an older key, and, if `in_clear`, those stored in clear by a version before encryption
// at rest. `next` is the last delivery looked at, 0 when there were none left (the pass is
// complete). One that does not open is left as it is and counted in `unreadable`.
struct ResealOp {
  uint64_t after = 0;
  size_t limit = 500;
  bool in_clear = false;
  Status status;
  uint64_t next = 0;
  size_t resealed = 0;
  size_t unreadable = 0;
};
// Erases what the catalogue's retention rules (core/retention.h) no longer let the store keep.
// Looks at up to `limit` messages with id > `after` whose bodies are not erased, in id order,
// and erases the bodies of those due: every stored envelope of the message emptied and its
// deliveries marked erased, with one "erase" record per delivery naming the rule (its parties
// those of the delivery's disclosure record). In the first batch
// (`after` 0) also erases every ended flag due: its person (keyed hash) and reason emptied, with
// an "erase" record. The disclosure log is never changed. `next` is the last message looked at,
// 0 when none were left (the pass is complete).
struct PurgeOp {
  uint64_t after = 0;
  size_t limit = 500;
  std::shared_ptr<const LegalBasisCatalogue> rules;
  uint64_t policy = 0;  // The generation of `rules` (ABORTED if newer ones were recorded).
  Status status;
  uint64_t next = 0;
  size_t erased_messages = 0;
  size_t erased_flags = 0;
};
using WriteOp = std::variant<PostOp, AckOp, ReceivedOp, FlagOp, UnflagOp, ListFlagsOp, EscalateOp,
                             CallRecordOp, CheckpointOp, PolicyOp, ResealOp, PurgeOp>;

// A log entry: the record as it stands in the store, and the leaf hash stored when it was
// appended. They disagree if the record was changed afterwards.
struct LogEntry {
  v1::DisclosureRecord record;
  std::string leaf_hash;
};

// Whether the entry's record still hashes to the leaf it was logged with (one changed in the
// store since does not; nor does one whose leaf is missing).
bool StillAsLogged(const LogEntry& entry);

// Disclosure-record filters; empty or unset fields match everything.
struct RecordFilter {
  std::string subject_hash;
  std::string message_id;
  std::string party;  // Sender or recipient.
  std::string legal_basis;
  std::string message_type;
  std::string outcome;
  std::optional<int64_t> from;   // occurred_at >= from.
  std::optional<int64_t> until;  // occurred_at < until.
  ScopeFilter scope;             // An auditor's scope (audit_scope.h); empty: everything.
};

// Records of one UTC day (days since the epoch) with the same event, outcome, basis and kind of
// sender (the party key before its "/"; "infoflytd" for the daemon's own records).
struct RecordCount {
  int64_t day = 0;
  std::string event;
  std::string outcome;
  std::string legal_basis;
  std::string sender_kind;
  uint64_t count = 0;
};

// A delivery disclosed to a municipality, for its acknowledgement times.
struct MunicipalityAck {
  std::string municipality;  // Party key.
  AckSample sample;
};

// A delivery whose acknowledgement deadline passed with no acknowledgement and no escalation.
struct OverdueDelivery {
  uint64_t delivery_id = 0;
  std::string recipient;
  int64_t deadline = 0;
  std::optional<int64_t> received_at;
  // The message it delivered.
  std::string message_id;
  std::string sender;
  std::string message_type;
  std::string handling;
  int64_t posted_at = 0;
  // From the delivery's disclosure record.
  std::string subject_hash;
  std::string legal_basis;
  std::string legal_citation;
  std::string on_behalf_of;
};

struct StoredDelivery {
  uint64_t delivery_id = 0;
  std::string message_id;
  std::string sender;
  int64_t posted_at = 0;
  std::string envelope;  // Serialised, opened; empty if unreadable.
  bool acknowledged = false;
  // The stored body does not open (changed, or moved from another message or recipient): the
  // delivery goes out marked so, without a body.
  bool unreadable = false;
  // The body was erased by the retention rules: the delivery goes out marked so, without one.
  bool erased = false;
  // Of the delivery's disclosure record: what the body is bound to besides its message.
  std::string content_hash;
  std::optional<int64_t> ack_deadline;  // By when the recipient must acknowledge it, if at all.
};

struct RecipientState {
  std::string party;
  std::optional<int64_t> received_at;
  std::optional<int64_t> acknowledged_at;
  std::optional<int64_t> ack_deadline;
  std::optional<int64_t> escalated_at;
  std::optional<int64_t> unreadable_at;  // Sent to the recipient marked unreadable.
  std::optional<int64_t> erased_at;      // Its body erased by the retention rules.
};

struct MessageState {
  std::string message_id;
  std::string message_type;
  int64_t posted_at = 0;
  std::vector<RecipientState> recipients;
};

// The keys a store's records are bound to: the disclosure log's signing key (else its
// checkpoints would not verify as one log) and the subject key (else records could not all be
// found by identity number); on PostgreSQL, what every daemon on the database must share. Only
// public values are stored.
struct SharedKeys {
  std::string log_origin;
  std::string log_verifier_key;   // Note verifier-key format.
  std::string subject_key_check;  // HMAC-SHA-256 of a fixed string under the subject key.
};

// A setting a commit's durability rests on, as the session that commits reported it.
struct DurabilitySetting {
  std::string name;   // e.g. "synchronous"
  std::string value;  // e.g. "full"
  bool operator==(const DurabilitySetting&) const = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // Applies `ops` at time `now` in one transaction, durable when this returns. Each op gets its
  // own status; a post with no allowed recipient stores only its refusal records (no message, so
  // its idempotency key stays free). A non-OK return means the transaction failed and no op took
  // effect.
  virtual Status Apply(std::span<WriteOp* const> ops, int64_t now) = 0;

  // What Apply's durability rests on, read back from the committing sessions (not taken from the
  // configuration) when the store was opened, and by a store that reconnects whenever it does.
  // Open, and Apply on a new session, refuse settings weaker than a receipt promises.
  virtual const std::vector<DurabilitySetting>& durability() const = 0;

  // Up to `limit` of `party`'s deliveries with id >= `from_id`, in id order; only
  // unacknowledged ones if `unacked_only`.
  virtual Status ReadDeliveries(std::string_view party, uint64_t from_id, bool unacked_only,
                                size_t limit, std::vector<StoredDelivery>* out) = 0;

  // `party`'s inbox: its unacknowledged deliveries, then its acknowledged ones, each newest
  // first; at most `limit` of each.
  virtual Status ReadInbox(std::string_view party, size_t limit,
                           std::vector<StoredDelivery>* out) = 0;

  // Flags on the person with `subject_hash` (all persons if empty), newest first; only those
  // active at `now` unless `include_inactive`.
  virtual Status ListFlags(std::string_view subject_hash, bool include_inactive, int64_t now,
                           std::vector<FlagInfo>* out) = 0;

  // Up to `limit` deliveries overdue at `now`, earliest deadline first.
  virtual Status ListOverdue(int64_t now, size_t limit, std::vector<OverdueDelivery>* out) = 0;
  // The earliest deadline still to watch (unacknowledged, unescalated), if any.
  virtual Status NextDeadline(std::optional<int64_t>* out) = 0;

  // Up to `limit` log entries (the record and its leaf as logged) matching `filter` with index
  // >= `from_index`, in index order.
  virtual Status QueryLog(const RecordFilter& filter, uint64_t from_index, size_t limit,
                          std::vector<LogEntry>* out) = 0;
  // QueryLog's records only, for readers that do not serve them as evidence.
  Status QueryRecords(const RecordFilter& filter, uint64_t from_index, size_t limit,
                      std::vector<v1::DisclosureRecord>* out);
  // The oversight statistics' rows for the period and scope of `filter` (its other fields are
  // not used): counts of records per day, event, outcome, basis and sender kind, in that order;
  // and each disclosure to a municipality with its acknowledgement, by municipality.
  virtual Status CountRecords(const RecordFilter& filter, std::vector<RecordCount>* counts,
                              std::vector<MunicipalityAck>* acks) = 0;
  // Up to `limit` log entries with from_index <= index < to_index, in order.
  virtual Status ReadLog(uint64_t from_index, uint64_t to_index, size_t limit,
                         std::vector<LogEntry>* out) = 0;
  // The checkpoint of `tree_size`, or the latest if 0. NOT_FOUND if there is none.
  virtual Status GetCheckpoint(uint64_t tree_size, StoredCheckpoint* out) = 0;
  // RFC 9162 proofs from the stored nodes; INVALID_ARGUMENT for sizes beyond the log.
  virtual Status InclusionProof(uint64_t index, uint64_t tree_size,
                                std::vector<std::string>* proof) = 0;
  virtual Status ConsistencyProof(uint64_t size1, uint64_t size2,
                                  std::vector<std::string>* proof) = 0;
  // Records in the log as of the last commit.
  virtual uint64_t LogSize() const = 0;
  // Records `mine` as the store's keys unless keys are recorded already (the first start wins),
  // and returns those recorded. Call at start, before the first Apply.
  virtual Status RecordSharedKeys(const SharedKeys& mine, int64_t now, SharedKeys* recorded) = 0;
  // The data keys envelopes are sealed with; set at start, before the first Apply or read.
  virtual void SetDataKeys(std::shared_ptr<const DataKeys> keys) = 0;
  // Records the checks of `mine` that ChecksToRecord gives (data_keys.h), one daemon at a time,
  // and returns every check recorded (also those of keys `mine` lacks), oldest first.
  virtual Status RecordDataKeys(const std::vector<DataKeys::Check>& mine, int64_t now,
                                std::vector<DataKeys::Check>* recorded) = 0;
  // A text a policy record names, by its SHA-256. NOT_FOUND if none was kept.
  virtual Status GetPolicyText(std::string_view sha256, PolicyText* out) = 0;

  // The recipients of `message_id` that `party` may see: if it sent the message, those its own
  // basis reached; and those disclosed to on its behalf (on_behalf_of). NOT_FOUND if none.
  virtual Status GetMessageState(std::string_view message_id, std::string_view party,
                                 MessageState* out) = 0;
};

}  // namespace infoflyt
