#include "server/exchange_service.h"

#include <algorithm>
#include <asio/post.hpp>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/log.h"
#include "core/disclosure_plan.h"
#include "core/message_body.h"
#include "core/validation.h"
#include "server/authorize.h"
#include "server/grpc_status.h"
#include "server/subscribe_stream.h"
#include "server/time_util.h"

namespace infoflyt {
namespace {

constexpr int kMaxAckIds = 1000;
constexpr size_t kRecordsPage = 1000;

void FillMessageStatus(const MessageState& state, v1::MessageStatus* response) {
  response->set_message_id(state.message_id);
  response->set_message_type(state.message_type);
  *response->mutable_posted_at() = ToTimestamp(state.posted_at);
  for (const RecipientState& r : state.recipients) {
    auto* out = response->add_recipients();
    out->set_party(r.party);
    if (r.received_at) *out->mutable_received_at() = ToTimestamp(*r.received_at);
    if (r.acknowledged_at) *out->mutable_acknowledged_at() = ToTimestamp(*r.acknowledged_at);
    if (r.ack_deadline) *out->mutable_ack_deadline() = ToTimestamp(*r.ack_deadline);
    if (r.escalated_at) *out->mutable_escalated_at() = ToTimestamp(*r.escalated_at);
    if (r.unreadable_at) *out->mutable_unreadable_at() = ToTimestamp(*r.unreadable_at);
    if (r.erased_at) *out->mutable_erased_at() = ToTimestamp(*r.erased_at);
    out->set_state(r.acknowledged_at ? v1::DELIVERY_STATE_ACKNOWLEDGED
                   : r.received_at   ? v1::DELIVERY_STATE_RECEIVED
                                     : v1::DELIVERY_STATE_PENDING);
  }
}

}  // namespace

Status ExchangeService::Prepare(const Caller& caller, const Catalogs& catalogs,
                                const v1::PostRequest& request, NewMessage* message) const {
  if (!request.has_envelope()) {
    return Status::InvalidArgument({{"envelope", "is required"}});
  }
  const v1::Envelope& envelope = request.envelope();
  if (Status s = ValidateEnvelope(envelope, catalogs.places, catalogs.legal_bases, NowMicros());
      !s.ok()) {
    return s;
  }
  const MessageBody body = BodyOf(envelope);
  const std::string subject_hash = HmacSha256(ctx_.subject_key, body.person->national_id());
  // Active flags on the person bring the home municipality in (release and return notices).
  std::vector<FlagInfo> flags;
  if (envelope.has_release_notice() || envelope.has_return_notice()) {
    if (Status s = ctx_.store->ListFlags(subject_hash, false, NowMicros(), &flags); !s.ok()) {
      return s;
    }
  }
  v1::Envelope delivered = envelope;
  delivered.clear_idempotency_key();  // The sender's retry token is nobody else's business.
  DisclosurePlan plan;
  if (Status s = PlanPost(caller.party, delivered, catalogs, flags,
                          ctx_.ack_deadlines.For(envelope, NowMicros()), &plan);
      !s.ok()) {
    return s;
  }
  const LegalBasis& basis = *catalogs.legal_bases.Find(envelope.legal_basis());  // Validated.
  message->message_id = NewUuidV7();
  message->policy = catalogs.policy;
  message->sender = caller.party.Key();
  message->idempotency_key = envelope.idempotency_key();
  message->request_hash = Sha256(envelope.SerializeAsString());
  message->message_type = std::string(body.type);
  message->legal_basis = basis.id;
  message->legal_citation = basis.citation;
  message->handling = v1::HandlingRestriction_Name(envelope.handling());
  message->subject_hash = subject_hash;
  message->sender_certificate_subject = caller.certificate.subject;
  message->sender_certificate_fingerprint = caller.certificate.fingerprint;
  message->recipients = std::move(plan.recipients);
  message->refusals = std::move(plan.refusals);
  return Status::Ok();
}

grpc::ServerUnaryReactor* ExchangeService::Post(grpc::CallbackServerContext* call,
                                                const v1::PostRequest* request,
                                                v1::Receipt* receipt) {
  // Counted until answered, whichever way: refused here, or by the committer's callback, which
  // holds a copy (operators see it, and SIGTERM logs how many posts it drains).
  struct InFlight {
    explicit InFlight(prometheus::Gauge& g) : gauge(g) { gauge.Increment(); }
    ~InFlight() { gauge.Decrement(); }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;
    prometheus::Gauge& gauge;
  };
  auto in_flight = std::make_shared<InFlight>(ctx_.metrics->posts_in_flight);
  const auto catalogs = ctx_.catalogs->Get();
  Caller caller;
  if (Status s = Authenticate(ctx_, call, *catalogs, "Exchange/Post", &caller); !s.ok())
    return FinishNow(call, s);
  auto* reactor = call->DefaultReactor();
  // Prepare may read the store (a notice's flags): never on gRPC's callback thread.
  asio::post(ctx_.executor, [this, caller, catalogs, request, reactor, receipt, in_flight] {
    PrepareAndSubmit(caller, *catalogs, *request, reactor, receipt, in_flight);
  });
  return reactor;
}

void ExchangeService::PrepareAndSubmit(const Caller& caller, const Catalogs& catalogs,
                                       const v1::PostRequest& request,
                                       grpc::ServerUnaryReactor* reactor, v1::Receipt* receipt,
                                       std::shared_ptr<void> in_flight) {
  PostOp op;
  if (Status s = Prepare(caller, catalogs, request, &op.message); !s.ok()) {
    ctx_.metrics->posts_rejected.Increment();
    reactor->Finish(ToGrpcStatus(s));
    return;
  }
  ctx_.committer->Submit(
      std::move(op), [this, reactor, receipt, in_flight = std::move(in_flight)](WriteOp& w) {
        auto& done = std::get<PostOp>(w);
        if (!done.status.ok()) {
          (done.status.code() == Code::kUnavailable ? ctx_.metrics->posts_failed
                                                    : ctx_.metrics->posts_rejected)
              .Increment();
          reactor->Finish(ToGrpcStatus(done.status));
          return;
        }
        if (done.receipt.recipients.empty()) {
          // Refused outright; the refusal records are committed.
          ctx_.metrics->posts_rejected.Increment();
          std::string why;
          for (const auto& r : done.receipt.refusals) {
            if (why.find(r.reason) == std::string::npos)
              why += (why.empty() ? "" : "; ") + r.reason;
          }
          reactor->Finish(ToGrpcStatus({Code::kPermissionDenied, why}));
          return;
        }
        receipt->set_message_id(done.receipt.message_id);
        // The sender sees only what its own basis reached, not what was done on another
        // party's behalf (a flag's).
        for (const auto& r : done.receipt.refusals) {
          if (!r.on_behalf_of.empty()) continue;
          auto* refused = receipt->add_refused();
          refused->set_party(r.party);
          refused->set_reason(r.reason);
        }
        std::set<std::string> for_others;
        for (const auto& r : done.message.recipients) {
          if (!r.on_behalf_of.empty()) for_others.insert(r.party);
        }
        for (const auto& r : done.receipt.recipients) {
          if (!for_others.contains(r)) receipt->add_recipients(r);
        }
        *receipt->mutable_accepted_at() = ToTimestamp(done.receipt.accepted_at);
        receipt->set_duplicate(done.receipt.duplicate);
        if (done.receipt.duplicate) {
          ctx_.metrics->posts_duplicate.Increment();
        } else {
          ctx_.metrics->posts_accepted.Increment();
          ctx_.hub->Notify(done.receipt.recipients);
          for (const auto& r : done.message.recipients) {
            if (r.ack_deadline && ctx_.watch_deadline) ctx_.watch_deadline(*r.ack_deadline);
          }
        }
        reactor->Finish(grpc::Status::OK);
      });
}

grpc::ServerWriteReactor<v1::Delivery>* ExchangeService::Subscribe(
    grpc::CallbackServerContext* call, const v1::SubscribeRequest* request) {
  const auto catalogs = ctx_.catalogs->Get();
  Caller caller;
  const Status s = Authenticate(ctx_, call, *catalogs, "Exchange/Subscribe", &caller);
  return SubscribeStream::Start(ctx_, call, caller, request->from_delivery_id(), s);
}

grpc::ServerUnaryReactor* ExchangeService::Ack(grpc::CallbackServerContext* call,
                                               const v1::AckRequest* request,
                                               v1::AckResponse* response) {
  const auto catalogs = ctx_.catalogs->Get();
  Caller caller;
  if (Status s = Authenticate(ctx_, call, *catalogs, "Exchange/Ack", &caller); !s.ok())
    return FinishNow(call, s);
  if (request->delivery_ids().empty() || request->delivery_ids().size() > kMaxAckIds) {
    return FinishNow(call, Status::InvalidArgument(
                               {{"delivery_ids", "must hold between 1 and 1000 delivery ids"}}));
  }
  AckOp op{caller.party.Key(),
           {request->delivery_ids().begin(), request->delivery_ids().end()},
           {},
           0,
           caller.certificate.subject,
           caller.certificate.fingerprint};
  auto* reactor = call->DefaultReactor();
  ctx_.committer->Submit(std::move(op), [this, reactor, response](WriteOp& w) {
    auto& done = std::get<AckOp>(w);
    if (done.status.ok()) {
      response->set_newly_acknowledged(done.newly_acknowledged);
      ctx_.metrics->acks.Increment(done.newly_acknowledged);
    }
    reactor->Finish(ToGrpcStatus(done.status));
  });
  return reactor;
}

grpc::ServerUnaryReactor* ExchangeService::GetMessageStatus(
    grpc::CallbackServerContext* call, const v1::GetMessageStatusRequest* request,
    v1::MessageStatus* response) {
  const auto catalogs = ctx_.catalogs->Get();
  Caller caller;
  if (Status s = Authenticate(ctx_, call, *catalogs, "Exchange/GetMessageStatus", &caller); !s.ok())
    return FinishNow(call, s);
  if (request->message_id().empty()) {
    return FinishNow(call, Status::InvalidArgument({{"message_id", "is required"}}));
  }
  auto* reactor = call->DefaultReactor();
  // The store is read on the executor, never on gRPC's callback thread.
  asio::post(ctx_.executor, [this, reactor, request, response, party = caller.party.Key()] {
    MessageState state;
    if (Status s = ctx_.store->GetMessageState(request->message_id(), party, &state); !s.ok()) {
      reactor->Finish(ToGrpcStatus(s));
      return;
    }
    FillMessageStatus(state, response);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* ExchangeService::GetReceiptEvidence(
    grpc::CallbackServerContext* call, const v1::GetMessageStatusRequest* request,
    v1::ReceiptEvidence* response) {
  const auto catalogs = ctx_.catalogs->Get();
  Caller caller;
  if (Status s = Authenticate(ctx_, call, *catalogs, "Exchange/GetReceiptEvidence", &caller);
      !s.ok())
    return FinishNow(call, s);
  if (request->message_id().empty()) {
    return FinishNow(call, Status::InvalidArgument({{"message_id", "is required"}}));
  }
  auto* reactor = call->DefaultReactor();
  // Reads the store and may wait for a checkpoint to be signed: never on gRPC's thread.
  asio::post(ctx_.executor, [this, reactor, request, response, party = caller.party.Key()] {
    reactor->Finish(ToGrpcStatus(CollectEvidence(request->message_id(), party, response)));
  });
  return reactor;
}

bool StillAsLoggedOrReported(const LogEntry& entry, std::string_view reader, Metrics* metrics) {
  if (StillAsLogged(entry)) return true;
  LogError("event=changed_record_served index=" + std::to_string(entry.record.index()) +
           " reader=" + std::string(reader) +
           ": the stored record no longer hashes to the leaf the log holds for it");
  metrics->changed_records_served.Increment();
  return false;
}

Status ExchangeService::CollectEvidence(const std::string& message_id, const std::string& party,
                                        v1::ReceiptEvidence* response) {
  RecordFilter filter;
  filter.message_id = message_id;
  std::vector<v1::DisclosureRecord> records;
  for (uint64_t from = 0;;) {
    std::vector<LogEntry> page;
    if (Status s = ctx_.store->QueryLog(filter, from, kRecordsPage, &page); !s.ok()) return s;
    for (LogEntry& e : page) {
      // Evidence is never built on a record changed since it was logged.
      if (!StillAsLoggedOrReported(e, party, ctx_.metrics)) {
        return {Code::kDataLoss, "message_id: record " + std::to_string(e.record.index()) +
                                     " of this message was changed in the store since it was "
                                     "logged; no evidence can be given for it"};
      }
      records.push_back(std::move(e.record));
    }
    if (page.size() < kRecordsPage) break;
    from = records.back().index() + 1;
  }
  // The recipients the caller may see, as GetMessageStatus shows them, and their
  // acknowledgements.
  std::map<std::string, v1::RecipientEvidence> by_party;
  std::map<uint64_t, std::string> party_of_delivery;
  uint64_t covering = 0;
  for (const v1::DisclosureRecord& r : records) {
    // A delivery's record: a disclosure, or for infoflytd's own notices an escalation.
    if ((r.event() != "disclose" && r.event() != "escalate") || r.outcome() != "disclosed") {
      continue;
    }
    const bool own = r.sender() == party && r.on_behalf_of().empty();
    if (!own && r.on_behalf_of() != party) continue;
    *by_party[r.recipient()].mutable_disclosure()->mutable_record() = r;
    party_of_delivery[r.delivery_id()] = r.recipient();
    covering = std::max(covering, r.index() + 1);
  }
  if (by_party.empty()) {
    return {Code::kNotFound, "message_id: no message with recipients this party may see"};
  }
  for (const v1::DisclosureRecord& r : records) {
    if (r.event() != "acknowledge") continue;
    auto delivered = party_of_delivery.find(r.delivery_id());
    if (delivered == party_of_delivery.end()) continue;
    *by_party[delivered->second].mutable_acknowledgement()->mutable_record() = r;
    covering = std::max(covering, r.index() + 1);
  }
  StoredCheckpoint checkpoint;
  if (Status s = log_->Covering(covering, &checkpoint); !s.ok()) return s;
  response->set_checkpoint_note(checkpoint.note);
  auto prove = [&](v1::ProvenRecord* proven) {
    std::vector<std::string> path;
    Status s = ctx_.store->InclusionProof(proven->record().index(), checkpoint.tree_size, &path);
    for (std::string& h : path) proven->add_inclusion_proof(std::move(h));
    return s;
  };
  for (auto& [recipient, evidence] : by_party) {
    if (Status s = prove(evidence.mutable_disclosure()); !s.ok()) return s;
    if (evidence.has_acknowledgement()) {
      if (Status s = prove(evidence.mutable_acknowledgement()); !s.ok()) return s;
    }
    *response->add_recipients() = std::move(evidence);
  }
  return Status::Ok();
}

}  // namespace infoflyt
