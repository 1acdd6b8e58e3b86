#include "store/store_core.h"

#include <algorithm>
#include <vector>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/log.h"
#include "merkle/record_leaf.h"

namespace infoflyt {
namespace {

// Ops that may append to the log or sign it: their batch takes the log head's lock first, before
// any row lock, so that two daemons' batches cannot deadlock over it.
bool TouchesLog(const WriteOp& op) {
  return !std::holds_alternative<ReceivedOp>(op) && !std::holds_alternative<ResealOp>(op);
}

// A row of the log refused: its keys are the core's own, so the log is out of step with the
// database (or a text field could not be stored as it is), never the op's fault alone.
Status OutOfStep(const Status& s) {
  if (s.code() != Code::kAlreadyExists && s.code() != Code::kInvalidArgument) return s;
  return {Code::kInternal, "disclosure log out of step with the database: " + s.message()};
}

// Every text field of a record must store as it is, or the stored record would no longer hash
// to its leaf: PostgreSQL's text takes no NUL byte (libpq would cut the value there).
Status CheckStorable(const v1::DisclosureRecord& r) {
  for (const auto& [name, text] :
       {std::pair<const char*, const std::string*>{"event", &r.event()},
        {"outcome", &r.outcome()},
        {"message_id", &r.message_id()},
        {"sender", &r.sender()},
        {"sender_certificate_subject", &r.sender_certificate_subject()},
        {"recipient", &r.recipient()},
        {"message_type", &r.message_type()},
        {"view", &r.view()},
        {"legal_basis", &r.legal_basis()},
        {"legal_citation", &r.legal_citation()},
        {"handling", &r.handling()},
        {"reason", &r.reason()},
        {"sender_certificate_fingerprint", &r.sender_certificate_fingerprint()},
        {"instance", &r.instance()},
        {"version", &r.version()},
        {"on_behalf_of", &r.on_behalf_of()}}) {
    if (text->find('\0') != std::string::npos) {
      return {Code::kInvalidArgument, std::string("disclosure record: ") + name +
                                          " holds a NUL byte, which cannot be stored as text"};
    }
  }
  return Status::Ok();
}

// The log's right edge at `size`, from the stored nodes; a failed read stays UNAVAILABLE.
Status LoadRightEdge(const StoredNodes& nodes, uint64_t size, merkle::CompactRange* out) {
  Status s = merkle::CompactRange::FromReader(LogNodeReader(nodes), size, out);
  if (s.ok() || s.code() == Code::kUnavailable) return s;
  return {Code::kInternal, "disclosure log: cannot load its right edge: " + s.message()};
}

// What a stored body is bound to: its message, and its delivery's content hash (each recipient's
// view has its own), so that a body moved to another message or recipient does not open.
// Recipients sharing one stored copy share its hash.
std::string EnvelopeOwner(std::string_view message_id, std::string_view content_hash) {
  return std::string(message_id) + '\0' + std::string(content_hash);
}

}  // namespace

Status StoreCore::LoadLog(const StoredNodes& nodes, uint64_t size) {
  if (Status s = LoadRightEdge(nodes, size, &log_); !s.ok()) return s;
  log_size_.store(log_.size());
  return Status::Ok();
}

bool StoreCore::FailsOnlyTheOp(const Status& s) {
  return s.code() != Code::kUnavailable && s.code() != Code::kInternal &&
         s.code() != Code::kResourceExhausted;
}

Status StoreCore::Apply(StoreRows& rows, std::span<WriteOp* const> ops, int64_t now) {
  // Nearly every batch has no op that fails: it runs without savepoints (on PostgreSQL each is
  // a subtransaction, costing the server more than the op's own rows). If an op does fail, the
  // batch is rolled back and run again with one savepoint per op, so that it fails alone.
  bool an_op_failed = false;
  Status s = ApplyBatch(rows, ops, now, false, &an_op_failed);
  if (!an_op_failed) return s;
  return ApplyBatch(rows, ops, now, true, &an_op_failed);
}

Status StoreCore::ApplyBatch(StoreRows& rows, std::span<WriteOp* const> ops, int64_t now,
                             bool savepoints, bool* an_op_failed) {
  *an_op_failed = false;
  const merkle::CompactRange log_before = log_;
  const uint64_t policy_before = policy_;
  auto abort = [&](Status s) {
    rows.Rollback();
    log_ = log_before;
    policy_ = policy_before;
    return s;
  };
  if (Status s = rows.Begin(); !s.ok()) return abort(s);
  log_locked_ = false;
  if (std::any_of(ops.begin(), ops.end(), [](const WriteOp* op) { return TouchesLog(*op); })) {
    if (Status s = FollowLogHead(rows); !s.ok()) return abort(s);
    log_locked_ = true;
  }
  const uint64_t size_at_start = log_.size();
  for (WriteOp* op : ops) {
    if (savepoints) {
      if (Status s = rows.Savepoint(); !s.ok()) return abort(s);
    }
    // Without savepoints an op that fails rolls the whole batch back (and log_before with it).
    std::optional<merkle::CompactRange> log_before_op;
    if (savepoints) log_before_op = log_;
    const uint64_t policy_before_op = policy_;
    const Status op_status = std::visit(
        [&](auto& o) {
          Status applied = ApplyOp(rows, o, now);
          if (Status written = rows.EndOp(); applied.ok()) applied = written;
          return o.status = applied;
        },
        *op);
    if (!FailsOnlyTheOp(op_status)) return abort(op_status);
    if (!op_status.ok()) {
      if (!savepoints) {
        *an_op_failed = true;
        return abort(op_status);
      }
      if (Status s = rows.RollbackToSavepoint(); !s.ok()) return abort(s);
      log_ = std::move(*log_before_op);
      policy_ = policy_before_op;
    }
    if (savepoints) {
      if (Status s = rows.ReleaseSavepoint(); !s.ok()) return abort(s);
    }
  }
  if (log_.size() != size_at_start) {
    if (Status s = rows.SetLogHead(log_.size()); !s.ok()) return abort(s);
  }
  // If the commit's answer is lost its outcome is unknown: the log goes back to before, and a
  // backend with a log head reloads it under the next batch's lock either way.
  if (Status s = rows.Commit(ops); !s.ok()) return abort(s);
  log_size_.store(log_.size());
  return Status::Ok();
}

Status StoreCore::FollowLogHead(StoreRows& rows) {
  std::optional<uint64_t> head;
  if (Status s = rows.LockLogHead(&head); !s.ok()) return s;
  if (!head || *head == log_.size()) return Status::Ok();
  // Another daemon appended (or this one committed without learning it did): the nodes it
  // stored are visible now that its transaction has released the lock.
  if (*head < log_.size()) {
    LogWarning("disclosure log: the stored head (" + std::to_string(*head) +
               ") is behind this daemon's (" + std::to_string(log_.size()) +
               "); following the database");
  }
  merkle::CompactRange loaded;
  if (Status s = LoadRightEdge(rows.Nodes(), *head, &loaded); !s.ok()) return s;
  log_ = std::move(loaded);
  return Status::Ok();
}

v1::DisclosureRecord StoreCore::NextRecord(int64_t now) const {
  v1::DisclosureRecord r;
  r.set_index(log_.size());
  r.mutable_occurred_at()->set_seconds(now / kMicrosPerSecond);
  r.mutable_occurred_at()->set_nanos(static_cast<int32_t>(now % kMicrosPerSecond) * 1000);
  r.set_instance(instance_);
  r.set_version(version_);
  return r;
}

Status StoreCore::AppendStored(StoreRows& rows, const v1::DisclosureRecord& record) {
  if (record.index() != log_.size()) {
    return {Code::kInternal, "disclosure log out of step: record " +
                                 std::to_string(record.index()) + " but log size " +
                                 std::to_string(log_.size())};
  }
  std::vector<merkle::Node> completed;
  if (Status s = log_.Append(merkle::RecordLeafHash(record), &completed); !s.ok()) return s;
  std::erase_if(completed, [](const merkle::Node& n) { return !StoresLevel(n.id.level); });
  return OutOfStep(rows.InsertNodes(completed));
}

Status StoreCore::Append(StoreRows& rows, const v1::DisclosureRecord& record) {
  if (!log_locked_) return {Code::kInternal, "disclosure log: appending without its lock"};
  if (Status s = CheckStorable(record); !s.ok()) return s;
  if (Status s = rows.InsertRecord(record); !s.ok()) return OutOfStep(s);
  return AppendStored(rows, record);
}

Status StoreCore::CheckPolicy(uint64_t decided_under) const {
  if (decided_under == 0 || decided_under >= policy_) return Status::Ok();
  return {Code::kAborted,
          "the rules in force changed while this call was decided; make it again (a post with "
          "the same idempotency key)"};
}

Status StoreCore::ApplyOp(StoreRows& rows, PostOp& op, int64_t now) {
  // Where daemons share a database, none can store this key between the look and the insert:
  // a batch with a post holds the log head's lock from its start to its commit.
  const NewMessage& m = op.message;
  if (Status s = CheckPolicy(m.policy); !s.ok()) return s;
  std::optional<ExistingMessage> existing;
  if (m.recipients.empty()) {  // Refused outright: only the records stay; the key stays free.
    if (Status s = rows.FindMessage(m.sender, m.idempotency_key, &existing); !s.ok()) return s;
    if (!existing) return StoreMessage(rows, m, now, std::nullopt, &op.receipt);
  } else {
    std::optional<int64_t> message;
    if (Status s = rows.InsertMessage(m, now, &message); !s.ok()) return s;
    if (message) return StoreMessage(rows, m, now, message, &op.receipt);
    if (Status s = rows.FindMessage(m.sender, m.idempotency_key, &existing); !s.ok()) return s;
    if (!existing) return {Code::kInternal, "store: a message's key is taken but it is not found"};
  }
  return Duplicate(rows, m, *existing, &op.receipt);
}

Status StoreCore::Duplicate(StoreRows& rows, const NewMessage& m, const ExistingMessage& existing,
                            StoredReceipt* receipt) {
  if (existing.request_hash != m.request_hash) {
    return {Code::kFailedPrecondition,
            "envelope.idempotency_key: already used by this party for a different message"};
  }
  *receipt = {existing.message_id, {}, {}, existing.accepted_at, true};
  return rows.ReadOutcomes(receipt->message_id, receipt);
}

Status StoreCore::StoreMessage(StoreRows& rows, const NewMessage& m, int64_t now,
                               std::optional<int64_t> message, StoredReceipt* receipt) {
  *receipt = {m.message_id, {}, m.refusals, now, false};
  auto record_of = [&](const std::string& recipient) {
    v1::DisclosureRecord r = NextRecord(now);
    r.set_message_id(m.message_id);
    r.set_sender(m.sender);
    r.set_sender_certificate_subject(m.sender_certificate_subject);
    r.set_sender_certificate_fingerprint(m.sender_certificate_fingerprint);
    r.set_recipient(recipient);
    r.set_subject_hash(m.subject_hash);
    r.set_message_type(m.message_type);
    r.set_legal_basis(m.legal_basis);
    r.set_legal_citation(m.legal_citation);
    r.set_handling(m.handling);
    return r;
  };
  for (const RecipientRefusal& refusal : m.refusals) {
    v1::DisclosureRecord r = record_of(refusal.party);
    r.set_on_behalf_of(refusal.on_behalf_of);
    r.set_event("refuse");
    r.set_outcome("refused");
    r.set_reason(refusal.reason);
    if (Status s = Append(rows, r); !s.ok()) return s;
  }
  if (!message) return Status::Ok();
  // Recipients given the same bytes (police and PST both see a release notice whole) share
  // the first one's stored copy, which is most of a post's size.
  std::vector<std::optional<size_t>> same_as(m.recipients.size());
  for (size_t i = 0; i < m.recipients.size(); ++i) {
    for (size_t j = 0; j < i && !same_as[i]; ++j) {
      if (!same_as[j] && m.recipients[j].envelope == m.recipients[i].envelope) same_as[i] = j;
    }
  }
  // Sealed once per stored copy, bound to the message: recipients sharing a copy share its
  // associated data, and a copy moved to another message does not open.
  const std::shared_ptr<const DataKeys> keys = data_keys_.load();
  if (keys == nullptr) return {Code::kInternal, "store: no data key to seal with"};
  std::vector<std::string> sealed(m.recipients.size());
  for (size_t i = 0; i < m.recipients.size(); ++i) {
    if (!same_as[i]) {
      const RecipientDisclosure& r = m.recipients[i];
      sealed[i] =
          keys->Seal(kEnvelopeColumn, EnvelopeOwner(m.message_id, r.content_hash), r.envelope);
    }
  }
  std::vector<int64_t> deliveries;
  if (Status s = rows.InsertDeliveries(*message, m, same_as, sealed, &deliveries); !s.ok()) {
    return s;
  }
  if (deliveries.size() != m.recipients.size()) {
    return {Code::kInternal, "store: deliveries inserted for " + std::to_string(deliveries.size()) +
                                 " of " + std::to_string(m.recipients.size()) + " recipients"};
  }
  for (size_t i = 0; i < m.recipients.size(); ++i) {
    const RecipientDisclosure& recipient = m.recipients[i];
    v1::DisclosureRecord r = record_of(recipient.party);
    r.set_event(m.event);
    r.set_outcome("disclosed");
    r.set_delivery_id(static_cast<uint64_t>(deliveries[i]));
    r.set_view(recipient.view);
    r.set_content_hash(recipient.content_hash);
    r.set_reason(recipient.note);
    r.set_on_behalf_of(recipient.on_behalf_of);
    if (!recipient.legal_basis.empty()) {  // A basis of its own, e.g. a flag's.
      r.set_legal_basis(recipient.legal_basis);
      r.set_legal_citation(recipient.legal_citation);
    }
    if (Status s = Append(rows, r); !s.ok()) return s;
    receipt->recipients.push_back(recipient.party);
  }
  return Status::Ok();
}

Status StoreCore::ApplyOp(StoreRows& rows, EscalateOp& op, int64_t now) {
  // Exactly once: the mark is conditional, and (where daemons share a database) a concurrent
  // escalation of the same delivery waits for its row lock, then finds it marked.
  if (Status s = CheckPolicy(op.escalation.policy); !s.ok()) return s;
  bool marked = false;
  if (Status s = rows.MarkEscalated(op.delivery_id, now, &marked); !s.ok()) return s;
  if (!marked) {
    return {Code::kFailedPrecondition,
            "delivery " + std::to_string(op.delivery_id) +
                " has no open deadline (acknowledged, already escalated or none)"};
  }
  std::optional<int64_t> message;
  if (!op.escalation.recipients.empty()) {
    if (Status s = rows.InsertMessage(op.escalation, now, &message); !s.ok()) return s;
    if (!message) return {Code::kInternal, "store: an escalation's key was taken"};
  }
  return StoreMessage(rows, op.escalation, now, message, &op.receipt);
}

Status StoreCore::ApplyOp(StoreRows& rows, CallRecordOp& op, int64_t now) {
  v1::DisclosureRecord r = NextRecord(now);
  r.set_event(op.event);
  r.set_outcome(op.event == "deny" ? "refused" : "read");
  r.set_sender(op.party);
  r.set_recipient(op.party);
  r.set_subject_hash(op.subject_hash);
  r.set_reason(op.reason);
  r.set_sender_certificate_subject(op.certificate_subject);
  r.set_sender_certificate_fingerprint(op.certificate_fingerprint);
  if (Status s = Append(rows, r); !s.ok()) return s;
  op.index = r.index();
  return Status::Ok();
}

Status StoreCore::ApplyOp(StoreRows& rows, CheckpointOp& op, int64_t now) {
  if (!log_locked_) return {Code::kInternal, "disclosure log: signing without its lock"};
  std::optional<StoredCheckpoint> last;
  if (Status s = rows.LatestCheckpoint(&last); !s.ok()) return s;
  if (last && last->tree_size == log_.size()) {
    op.checkpoint = std::move(*last);
    return Status::Ok();
  }
  StoredCheckpoint c{log_.size(), log_.Root(), "", now};
  if (Status s = op.sign(c.tree_size, c.root, &c.note); !s.ok()) return s;
  if (Status s = rows.InsertCheckpoint(c); !s.ok()) return OutOfStep(s);
  op.checkpoint = std::move(c);
  return Status::Ok();
}

Status StoreCore::ApplyOp(StoreRows& rows, PolicyOp& op, int64_t now) {
  std::string reason = "rules in force:";
  for (PolicyText& t : op.texts) {
    t.sha256 = Sha256(t.text);
    if (Status s = rows.KeepPolicyText(t, now); !s.ok()) return s;
    reason += " " + t.name + " sha256=" + ToHex(t.sha256);
  }
  v1::DisclosureRecord r = NextRecord(now);
  r.set_event("policy");
  r.set_outcome("recorded");
  r.set_sender("infoflytd");
  r.set_message_type("policy");
  r.set_reason(reason);
  if (Status s = Append(rows, r); !s.ok()) return s;
  op.index = r.index();
  policy_ = std::max(policy_, op.generation);
  return Status::Ok();
}

Status StoreCore::ApplyOp(StoreRows& rows, AckOp& op, int64_t now) {
  op.newly_acknowledged = 0;
  for (size_t i = 0; i < op.delivery_ids.size(); ++i) {
    const uint64_t id = op.delivery_ids[i];
    bool changed = false;
    if (Status s = rows.Acknowledge(op.party, id, now, &changed); !s.ok()) return s;
    if (changed) {
      ++op.newly_acknowledged;
      if (Status s = AppendAcknowledgement(rows, op, id, now); !s.ok()) return s;
      continue;
    }
    bool exists = false;
    if (Status s = rows.DeliveryExists(op.party, id, &exists); !s.ok()) return s;
    if (!exists) {
      return {Code::kNotFound, "delivery_ids[" + std::to_string(i) + "]: no delivery " +
                                   std::to_string(id) + " addressed to this party"};
    }
  }
  return Status::Ok();
}

Status StoreCore::FollowDisclosure(StoreRows& rows, uint64_t delivery, std::string_view event,
                                   std::string_view outcome, int64_t now,
                                   v1::DisclosureRecord* disclosed, v1::DisclosureRecord* out) {
  std::optional<v1::DisclosureRecord> found;
  if (Status s = rows.DisclosureOf(delivery, &found); !s.ok()) return s;
  if (!found) {
    return {Code::kInternal, "store: delivery " + std::to_string(delivery) +
                                 " has no disclosure record (for its " + std::string(event) +
                                 " record)"};
  }
  *disclosed = std::move(*found);
  v1::DisclosureRecord r = NextRecord(now);
  r.set_event(std::string(event));
  r.set_outcome(std::string(outcome));
  r.set_message_id(disclosed->message_id());
  r.set_delivery_id(delivery);
  r.set_on_behalf_of(disclosed->on_behalf_of());
  r.set_subject_hash(disclosed->subject_hash());
  r.set_message_type(disclosed->message_type());
  r.set_legal_basis(disclosed->legal_basis());
  r.set_legal_citation(disclosed->legal_citation());
  r.set_handling(disclosed->handling());
  *out = std::move(r);
  return Status::Ok();
}

Status StoreCore::AppendAcknowledgement(StoreRows& rows, const AckOp& op, uint64_t delivery,
                                        int64_t now) {
  v1::DisclosureRecord disclosed;
  v1::DisclosureRecord r;
  if (Status s =
          FollowDisclosure(rows, delivery, "acknowledge", "acknowledged", now, &disclosed, &r);
      !s.ok()) {
    return s;
  }
  // Who acknowledges, to whom the receipt is evidence: the party the delivery was made for.
  r.set_sender(op.party);
  r.set_recipient(disclosed.on_behalf_of().empty() ? disclosed.sender() : disclosed.on_behalf_of());
  r.set_sender_certificate_subject(op.certificate_subject);
  r.set_sender_certificate_fingerprint(op.certificate_fingerprint);
  r.set_reason("acknowledges record " + std::to_string(disclosed.index()));
  return Append(rows, r);
}

Status StoreCore::ApplyOp(StoreRows& rows, ReceivedOp& op, int64_t now) {
  return rows.MarkReceived(op.party, op.delivery_id, now, op.unreadable);
}

Status StoreCore::ApplyOp(StoreRows& rows, ResealOp& op, int64_t /*now*/) {
  op.resealed = op.unreadable = 0;  // The batch may run twice (Apply).
  op.next = 0;
  const std::shared_ptr<const DataKeys> keys = data_keys_.load();
  if (keys == nullptr) return {Code::kInternal, "store: no data key to seal with"};
  std::vector<StoredEnvelope> stored;
  if (Status s = rows.ReadEnvelopes(op.after, keys->CurrentHeader(), op.limit, &stored); !s.ok()) {
    return s;
  }
  op.next = stored.empty() ? 0 : stored.back().delivery_id;
  for (const StoredEnvelope& e : stored) {
    const std::string under = DataKeys::SealedUnder(e.value);
    if (under == keys->current_id()) continue;
    std::string plain;
    if (under.empty() && op.in_clear) {
      plain = e.value;
    } else if (Status s = keys->Open(kEnvelopeColumn, EnvelopeOwner(e.message_id, e.content_hash),
                                     e.value, &plain);
               !s.ok()) {
      LogError("delivery " + std::to_string(e.delivery_id) + " cannot be resealed: " + s.message());
      ++op.unreadable;
      continue;
    }
    const std::string sealed =
        keys->Seal(kEnvelopeColumn, EnvelopeOwner(e.message_id, e.content_hash), plain);
    if (Status s = rows.UpdateEnvelope(e.delivery_id, sealed); !s.ok()) return s;
    ++op.resealed;
  }
  return Status::Ok();
}

Status StoreCore::ApplyOp(StoreRows& rows, PurgeOp& op, int64_t now) {
  op.erased_messages = op.erased_flags = 0;  // The batch may run twice (Apply).
  op.next = 0;
  if (op.rules == nullptr) return {Code::kInternal, "store: a purge without retention rules"};
  // Erasing cannot be undone: never under rules older than those recorded last.
  if (Status s = CheckPolicy(op.policy); !s.ok()) return s;
  if (op.after == 0) {
    if (Status s = EraseEndedFlags(rows, op, now); !s.ok()) return s;
  }
  std::vector<RetainedMessage> retained;
  if (Status s = rows.ReadRetainedMessages(op.after, now - op.rules->ShortestRetention(), op.limit,
                                           &retained);
      !s.ok()) {
    return s;
  }
  op.next = retained.empty() ? 0 : retained.back().id;
  for (const RetainedMessage& m : retained) {
    const std::optional<std::string> rule =
        BodiesDue(op.rules->RetentionOf(m.legal_basis), m.posted_at, m.acknowledged_at, now);
    if (!rule) continue;
    std::vector<uint64_t> deliveries;
    if (Status s = rows.EraseBodies(m.id, now, &deliveries); !s.ok()) return s;
    for (uint64_t delivery : deliveries) {
      if (Status s = AppendErasure(rows, delivery, *rule, now); !s.ok()) return s;
    }
    ++op.erased_messages;
  }
  return Status::Ok();
}

Status StoreCore::AppendErasure(StoreRows& rows, uint64_t delivery, const std::string& rule,
                                int64_t now) {
  v1::DisclosureRecord disclosed;
  v1::DisclosureRecord r;
  if (Status s = FollowDisclosure(rows, delivery, "erase", "erased", now, &disclosed, &r);
      !s.ok()) {
    return s;
  }
  // The delivery's own parties: the record is in exactly the scopes its disclosure is in, and
  // withheld wherever that is (PST's, an auditor's scope).
  r.set_sender(disclosed.sender());
  r.set_recipient(disclosed.recipient());
  r.set_reason("body erased: " + rule);
  return Append(rows, r);
}

Status StoreCore::EraseEndedFlags(StoreRows& rows, PurgeOp& op, int64_t now) {
  std::vector<FlagInfo> ended;
  if (Status s = rows.ReadEndedFlags(now, &ended); !s.ok()) return s;
  for (const FlagInfo& flag : ended) {
    const int64_t ended_at = flag.unflagged_at ? *flag.unflagged_at : flag.expires_at.value_or(now);
    const std::optional<std::string> rule =
        FlagDue(op.rules->RetentionOf(flag.legal_basis), ended_at, now);
    if (!rule) continue;
    if (Status s = rows.EraseFlag(flag.flag_id, now); !s.ok()) return s;
    v1::DisclosureRecord r = NextRecord(now);
    r.set_event("erase");
    r.set_outcome("erased");
    r.set_sender(flag.flagged_by);  // Whose flag it was.
    r.set_recipient("infoflytd");
    r.set_subject_hash(flag.subject_hash);
    r.set_message_type(std::string(kFlagMessageType));
    r.set_legal_basis(flag.legal_basis);
    if (const LegalBasis* basis = op.rules->Find(flag.legal_basis)) {
      r.set_legal_citation(basis->citation);
    }
    r.set_reason("flag_id=" + flag.flag_id + " person and reason erased: " + *rule);
    if (Status s = Append(rows, r); !s.ok()) return s;
    ++op.erased_flags;
  }
  return Status::Ok();
}

Status StoreCore::OpenDeliveries(std::vector<StoredDelivery>* deliveries) const {
  const std::shared_ptr<const DataKeys> keys = data_keys_.load();
  if (keys == nullptr) return {Code::kUnavailable, "store: no data key is loaded"};
  for (StoredDelivery& d : *deliveries) {
    if (d.erased) {
      d.envelope.clear();
      continue;
    }
    std::string plain;
    Status s = keys->Open(kEnvelopeColumn, EnvelopeOwner(d.message_id, d.content_hash), d.envelope,
                          &plain);
    if (s.ok()) {
      d.envelope = std::move(plain);
      continue;
    }
    LogError("event=unreadable_delivery delivery=" + std::to_string(d.delivery_id) +
             " message=" + d.message_id + ": " + s.message());
    if (s.code() == Code::kUnavailable) return s;  // A key this daemon lacks: nothing is wrong.
    d.envelope.clear();
    d.unreadable = true;
  }
  return Status::Ok();
}

v1::DisclosureRecord StoreCore::RegistryRecord(const RegistryCaller& caller, std::string_view event,
                                               std::string_view subject_hash, int64_t now) const {
  v1::DisclosureRecord r = NextRecord(now);
  r.set_event(std::string(event));
  r.set_outcome("recorded");
  r.set_sender(caller.party);
  r.set_recipient(caller.party);
  r.set_subject_hash(std::string(subject_hash));
  r.set_message_type(std::string(kFlagMessageType));
  r.set_sender_certificate_subject(caller.certificate_subject);
  r.set_sender_certificate_fingerprint(caller.certificate_fingerprint);
  return r;
}

Status StoreCore::ApplyOp(StoreRows& rows, FlagOp& op, int64_t now) {
  if (Status s = CheckPolicy(op.caller.policy); !s.ok()) return s;
  // An id a form made when it was shown, sent again: the same flag stores nothing and is
  // ALREADY_EXISTS with the stored flag; the id on any other flag is refused.
  std::optional<FlagInfo> existing;
  if (Status s = rows.FindFlag(op.flag.flag_id, &existing); !s.ok()) return s;
  if (existing) {
    if (existing->flagged_by != op.flag.flagged_by || existing->subject_hash != op.subject_hash ||
        existing->reason != op.flag.reason || existing->legal_basis != op.flag.legal_basis ||
        existing->expires_at != op.flag.expires_at) {
      return {Code::kFailedPrecondition, "flag_id: names another flag; show the form again"};
    }
    op.flag = *existing;
    return {Code::kAlreadyExists, "flag_id: this flag is stored already"};
  }
  if (Status s = rows.InsertFlag(op, now); !s.ok()) return s;
  op.flag.flagged_at = now;
  v1::DisclosureRecord r = RegistryRecord(op.caller, "flag", op.subject_hash, now);
  r.set_legal_basis(op.flag.legal_basis);
  r.set_legal_citation(op.legal_citation);
  r.set_reason("flag_id=" + op.flag.flag_id + " reason=" + op.flag.reason);
  return Append(rows, r);
}

Status StoreCore::ApplyOp(StoreRows& rows, UnflagOp& op, int64_t now) {
  if (Status s = CheckPolicy(op.caller.policy); !s.ok()) return s;
  std::optional<FlagInfo> flag;
  if (Status s = rows.FindFlag(op.flag_id, &flag); !s.ok()) return s;
  if (!flag) return {Code::kNotFound, "flag_id: no such flag"};
  const std::optional<PartyKind> owner = KindOfKey(flag->flagged_by);
  if (!owner ||
      !op.rules->registry().MayEndFlag(op.caller.kind, op.caller.party, *owner, flag->flagged_by)) {
    return {Code::kPermissionDenied,
            "flag_id: the flag was set by another party, and the registry rules do not let this "
            "party end it"};
  }
  // An erased flag (no person left) ended long ago, whatever its expiry said.
  const bool active = !flag->unflagged_at && !flag->subject_hash.empty();
  std::optional<FlagInfo> after;
  if (Status s = rows.Unflag(op.flag_id, op.caller.party, now, &after); !s.ok()) return s;
  if (!after) return {Code::kNotFound, "flag_id: no such flag"};
  op.result = std::move(*after);
  if (!active) return Status::Ok();  // Ended before: nothing changed, nothing to record.
  v1::DisclosureRecord r = RegistryRecord(op.caller, "unflag", flag->subject_hash, now);
  r.set_legal_basis(flag->legal_basis);
  if (const LegalBasis* basis = op.rules->Find(flag->legal_basis)) {
    r.set_legal_citation(basis->citation);
  }
  r.set_reason("flag_id=" + op.flag_id + " set by " + flag->flagged_by);
  return Append(rows, r);
}

Status StoreCore::ApplyOp(StoreRows& rows, ListFlagsOp& op, int64_t now) {
  if (Status s = CheckPolicy(op.caller.policy); !s.ok()) return s;
  std::vector<FlagInfo> found;
  if (Status s = rows.ReadFlags(op.subject_hash, op.include_inactive, now, &found); !s.ok()) {
    return s;
  }
  for (FlagInfo& flag : found) {
    if (flag.flagged_by != op.caller.party) {
      // Another party's flag is shown only under a flow of its own basis: a disclosure.
      const std::optional<PartyKind> owner = KindOfKey(flag.flagged_by);
      const LegalBasis* basis = op.rules->Find(flag.legal_basis);
      if (!owner || basis == nullptr ||
          op.rules->Decide(flag.legal_basis, *owner, op.caller.kind, kFlagMessageType) == nullptr) {
        continue;
      }
      v1::DisclosureRecord r = RegistryRecord(op.caller, "disclose", flag.subject_hash, now);
      r.set_outcome("disclosed");
      r.set_sender(flag.flagged_by);
      r.clear_sender_certificate_subject();
      r.clear_sender_certificate_fingerprint();
      r.set_legal_basis(basis->id);
      r.set_legal_citation(basis->citation);
      r.set_view("*");
      r.set_reason("Registry/ListFlags flag_id=" + flag.flag_id);
      if (Status s = Append(rows, r); !s.ok()) return s;
    }
    op.flags.push_back(std::move(flag));
  }
  v1::DisclosureRecord r = RegistryRecord(op.caller, "read", op.subject_hash, now);
  r.set_outcome("read");
  // No count: the disclose records say what was shown, each to those whose scope it is in.
  r.set_reason(op.reason);
  return Append(rows, r);
}

}  // namespace infoflyt
