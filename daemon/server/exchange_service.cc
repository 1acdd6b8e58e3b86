#include "server/exchange_service.h"

#include <asio/post.hpp>
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "base/clock.h"
#include "base/crypto.h"
#include "core/disclosure_view.h"
#include "core/message_body.h"
#include "core/router.h"
#include "core/validation.h"
#include "server/authorize.h"
#include "server/grpc_status.h"
#include "server/subscribe_stream.h"
#include "server/time_util.h"

namespace infoflyt {
namespace {

constexpr int kMaxAckIds = 1000;
constexpr size_t kRecordsPage = 1000;

// Decides the flow under which `recipient` is given the message: the cited `basis`'s, or, for a
// municipality the cited basis does not reach, an active flag's basis's as the flagging party's
// disclosure (recorded in `out`). Null if nothing allows it.
const Flow* DecideFlow(const Catalogs& catalogs, const Party& sender, const LegalBasis& basis,
                       const std::string& type, const std::vector<FlagInfo>& flags,
                       const Party& recipient, RecipientDisclosure* out) {
  const Flow* flow = catalogs.legal_bases.Decide(basis.id, sender.kind, recipient.kind, type);
  for (size_t f = 0;
       flow == nullptr && recipient.kind == PartyKind::kMunicipality && f < flags.size(); ++f) {
    const Party* flagger = catalogs.parties.FindByKey(flags[f].flagged_by);
    const LegalBasis* flag_basis = catalogs.legal_bases.Find(flags[f].legal_basis);
    if (flagger == nullptr || flag_basis == nullptr) continue;
    flow = catalogs.legal_bases.Decide(flag_basis->id, flagger->kind, recipient.kind, type);
    if (flow != nullptr) {
      out->legal_basis = flag_basis->id;
      out->legal_citation = flag_basis->citation;
      out->note = "flag " + flags[f].flag_id + " by " + flags[f].flagged_by;
      // The sender's own flag: still its own disclosure.
      if (flags[f].flagged_by != sender.Key()) out->on_behalf_of = flags[f].flagged_by;
    }
  }
  return flow;
}

// Whose behalf a municipality's refusal on a release notice is made on: a release notice reaches
// a municipality only through a flag (router.h). None if the sender flagged the person itself
// (it learns nothing it does not know); else PST's flag if there is one (so that subject access
// leaves it out), else another party's.
std::string FlagOwnerToCredit(const std::vector<FlagInfo>& flags, const std::string& sender,
                              const v1::Envelope& envelope) {
  if (!envelope.has_release_notice() || flags.empty()) return "";
  for (const FlagInfo& f : flags) {
    if (f.flagged_by == sender) return "";
  }
  for (const FlagInfo& f : flags) {
    if (KindOfKey(f.flagged_by) == PartyKind::kPst) return f.flagged_by;
  }
  return flags.front().flagged_by;
}

// The bytes each recipient is given: `source` cut to the flow's view. Recipients given the same
// view of the same source under the same basis (police and PST, typically) share one rendering,
// so each distinct copy is serialised and hashed once.
class ViewRenderer {
 public:
  void Render(const v1::Envelope& source, const Flow& flow, RecipientDisclosure* out) {
    std::string view_paths = flow.ViewString();
    for (const Rendered& r : rendered_) {
      if (r.source == &source && r.view == view_paths && r.legal_basis == out->legal_basis) {
        Fill(r, out);
        return;
      }
    }
    v1::Envelope view = ApplyView(source, flow);
    // The recipient sees the basis its copy was actually disclosed under.
    if (!out->legal_basis.empty()) view.set_legal_basis(out->legal_basis);
    Rendered r{&source, out->legal_basis, view.SerializeAsString(), std::move(view_paths), ""};
    r.content_hash = Sha256(r.envelope);
    Fill(r, out);
    rendered_.push_back(std::move(r));
  }

 private:
  struct Rendered {
    const v1::Envelope* source;
    std::string legal_basis;
    std::string envelope;
    std::string view;
    std::string content_hash;
  };
  static void Fill(const Rendered& r, RecipientDisclosure* out) {
    out->envelope = r.envelope;
    out->view = r.view;
    out->content_hash = r.content_hash;
  }
  std::vector<Rendered> rendered_;
};

// A municipality is told whom to contact at its police district, not at the sending unit.
v1::Envelope WithPoliceContact(const v1::Envelope& delivered, const Catalogs& catalogs) {
  v1::Envelope out = delivered;
  const Municipality* home = catalogs.places.Find(BodyOf(delivered).home_municipality);
  const Party* police =
      home != nullptr ? catalogs.parties.PoliceFor(home->police_district) : nullptr;
  v1::Contact* contact = out.has_release_notice()  ? out.mutable_release_notice()->mutable_contact()
                         : out.has_return_notice() ? out.mutable_return_notice()->mutable_contact()
                                                   : nullptr;
  if (police == nullptr || contact == nullptr) return out;
  contact->set_name(police->contact.name);
  contact->set_unit(police->contact.unit);
  contact->set_phone(police->contact.phone);
  contact->set_email(police->contact.email);
  return out;
}

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
  std::vector<const Party*> recipients;
  std::vector<std::string> unconnected;
  if (Status s = Route(caller.party, envelope, catalogs.places, catalogs.parties, &recipients,
                       !flags.empty(), &unconnected);
      !s.ok()) {
    return s;
  }
  const LegalBasis& basis = *catalogs.legal_bases.Find(envelope.legal_basis());  // Validated.
  const std::optional<int64_t> ack_deadline = ctx_.ack_deadlines.For(envelope, NowMicros());
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
  v1::Envelope delivered = envelope;
  delivered.clear_idempotency_key();  // The sender's retry token is nobody else's business.
  // Refusing a municipality a flag brought in is done on the flag owner's behalf, so that the
  // sender does not learn of the flag from its receipt.
  const std::string brought_in_by = FlagOwnerToCredit(flags, message->sender, envelope);
  std::optional<v1::Envelope> for_municipality;  // Made when first needed.
  ViewRenderer renderer;
  for (const Party* p : recipients) {
    RecipientDisclosure disclosure;
    const bool municipal = p->kind == PartyKind::kMunicipality;
    const Flow* flow =
        DecideFlow(catalogs, caller.party, basis, message->message_type, flags, *p, &disclosure);
    if (flow != nullptr && !flow->Carries(envelope.handling())) {
      message->refusals.push_back(
          {p->Key(),
           "the flow to " + std::string(PartyKindName(p->kind)) + " under " +
               (disclosure.legal_basis.empty() ? basis.id : disclosure.legal_basis) +
               " carries at most " +
               v1::HandlingRestriction_Name(
                   static_cast<v1::HandlingRestriction>(flow->max_handling)) +
               "; this message is " + v1::HandlingRestriction_Name(envelope.handling()),
           disclosure.on_behalf_of});
      continue;
    }
    if (flow != nullptr) {
      disclosure.party = p->Key();
      if (municipal && !for_municipality) for_municipality = WithPoliceContact(delivered, catalogs);
      renderer.Render(municipal ? *for_municipality : delivered, *flow, &disclosure);
      if (municipal) disclosure.ack_deadline = ack_deadline;
      message->recipients.push_back(std::move(disclosure));
    } else {
      message->refusals.push_back(
          {p->Key(),
           "legal basis " + basis.id + " (" + basis.citation + ") allows no flow " +
               std::string(PartyKindName(caller.party.kind)) + " -> " +
               std::string(PartyKindName(p->kind)) + " for " + message->message_type,
           municipal ? brought_in_by : ""});
    }
  }
  for (const std::string& party : unconnected) {
    message->refusals.push_back(
        {party, "the home municipality has no party in infoflyt", brought_in_by});
  }
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

Status ExchangeService::CollectEvidence(const std::string& message_id, const std::string& party,
                                        v1::ReceiptEvidence* response) {
  RecordFilter filter;
  filter.message_id = message_id;
  std::vector<v1::DisclosureRecord> records;
  for (uint64_t from = 0;;) {
    const size_t before = records.size();
    if (Status s = ctx_.store->QueryRecords(filter, from, kRecordsPage, &records); !s.ok()) {
      return s;
    }
    if (records.size() - before < kRecordsPage) break;
    from = records.back().index() + 1;
  }
  // The recipients the caller may see, as GetMessageStatus shows them, and their
  // acknowledgements.
  std::map<std::string, v1::RecipientEvidence> by_party;
  std::map<uint64_t, std::string> party_of_delivery;
  uint64_t covering = 0;
  for (const v1::DisclosureRecord& r : records) {
    if (r.event() != "disclose" || r.outcome() != "disclosed") continue;
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
