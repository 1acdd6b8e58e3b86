#include "server/exchange_actions.h"

#include <asio/post.hpp>
#include <set>
#include <vector>

#include "base/clock.h"
#include "base/crypto.h"
#include "core/disclosure_plan.h"
#include "core/message_body.h"
#include "core/validation.h"
#include "core/time_util.h"

namespace infoflyt {
namespace {

constexpr size_t kMaxAckIds = 1000;

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

// Counts a post until it is answered, whichever way (operators see it, and SIGTERM logs how many
// posts it drains).
class InFlight {
 public:
  explicit InFlight(prometheus::Gauge& gauge) : gauge_(gauge) { gauge_.Increment(); }
  ~InFlight() { gauge_.Decrement(); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  prometheus::Gauge& gauge_;
};

}  // namespace

Status ExchangeActions::Prepare(const Caller& caller, const Catalogs& catalogs,
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
  const std::string subject_hash = HmacSha256(ctx_->subject_key, body.person->national_id());
  // Active flags on the person bring the home municipality in (release and return notices).
  std::vector<FlagInfo> flags;
  if (envelope.has_release_notice() || envelope.has_return_notice()) {
    if (Status s = ctx_->store->ListFlags(subject_hash, false, NowMicros(), &flags); !s.ok()) {
      return s;
    }
  }
  v1::Envelope delivered = envelope;
  delivered.clear_idempotency_key();  // The sender's retry token is nobody else's business.
  DisclosurePlan plan;
  if (Status s = PlanPost(caller.party, delivered, catalogs, flags,
                          ctx_->ack_deadlines.For(envelope, NowMicros()), &plan);
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

void ExchangeActions::Post(const Caller& caller, std::shared_ptr<const Catalogs> catalogs,
                           v1::PostRequest request,
                           std::function<void(const Status&, v1::Receipt)> done) {
  auto in_flight = std::make_shared<InFlight>(ctx_->metrics->posts_in_flight);
  // Prepare may read the store (a notice's flags): never on a transport's I/O thread.
  asio::post(
      ctx_->executor, [this, caller, catalogs = std::move(catalogs), request = std::move(request),
                       done = std::move(done), in_flight = std::move(in_flight)]() mutable {
        PostOp op;
        if (Status s = Prepare(caller, *catalogs, request, &op.message); !s.ok()) {
          ctx_->metrics->posts_rejected.Increment();
          done(s, {});
          return;
        }
        ctx_->committer->Submit(std::move(op), [this, done = std::move(done),
                                                in_flight = std::move(in_flight)](WriteOp& w) {
          auto& stored = std::get<PostOp>(w);
          if (!stored.status.ok()) {
            (stored.status.code() == Code::kUnavailable ? ctx_->metrics->posts_failed
                                                        : ctx_->metrics->posts_rejected)
                .Increment();
            done(stored.status, {});
            return;
          }
          if (stored.receipt.recipients.empty()) {
            // Refused outright; the refusal records are committed.
            ctx_->metrics->posts_rejected.Increment();
            std::string why;
            for (const auto& r : stored.receipt.refusals) {
              if (why.find(r.reason) == std::string::npos)
                why += (why.empty() ? "" : "; ") + r.reason;
            }
            done({Code::kPermissionDenied, why}, {});
            return;
          }
          if (stored.receipt.duplicate) {
            ctx_->metrics->posts_duplicate.Increment();
          } else {
            ctx_->metrics->posts_accepted.Increment();
            ctx_->hub->Notify(stored.receipt.recipients);
            for (const auto& r : stored.message.recipients) {
              if (r.ack_deadline && ctx_->watch_deadline) ctx_->watch_deadline(*r.ack_deadline);
            }
          }
          done(Status::Ok(), ReceiptFor(stored));
        });
      });
}

v1::Receipt ExchangeActions::ReceiptFor(const PostOp& done) {
  v1::Receipt receipt;
  receipt.set_message_id(done.receipt.message_id);
  // The sender sees only what its own basis reached, not what was done on another party's
  // behalf (a flag's).
  for (const auto& r : done.receipt.refusals) {
    if (!r.on_behalf_of.empty()) continue;
    auto* refused = receipt.add_refused();
    refused->set_party(r.party);
    refused->set_reason(r.reason);
  }
  std::set<std::string> for_others;
  for (const auto& r : done.message.recipients) {
    if (!r.on_behalf_of.empty()) for_others.insert(r.party);
  }
  for (const auto& r : done.receipt.recipients) {
    if (!for_others.contains(r)) receipt.add_recipients(r);
  }
  *receipt.mutable_accepted_at() = ToTimestamp(done.receipt.accepted_at);
  receipt.set_duplicate(done.receipt.duplicate);
  return receipt;
}

void ExchangeActions::Ack(const Caller& caller, std::vector<uint64_t> delivery_ids,
                          std::function<void(const Status&, uint64_t newly)> done) {
  if (delivery_ids.empty() || delivery_ids.size() > kMaxAckIds) {
    done(Status::InvalidArgument({{"delivery_ids", "must hold between 1 and 1000 delivery ids"}}),
         0);
    return;
  }
  AckOp op{caller.party.Key(),         std::move(delivery_ids),       {}, 0,
           caller.certificate.subject, caller.certificate.fingerprint};
  ctx_->committer->Submit(std::move(op), [this, done = std::move(done)](WriteOp& w) {
    auto& acked = std::get<AckOp>(w);
    if (acked.status.ok()) ctx_->metrics->acks.Increment(acked.newly_acknowledged);
    done(acked.status, acked.status.ok() ? acked.newly_acknowledged : 0);
  });
}

void ExchangeActions::MessageStatus(const std::string& party, const std::string& message_id,
                                    std::function<void(const Status&, v1::MessageStatus)> done) {
  if (message_id.empty()) {
    done(Status::InvalidArgument({{"message_id", "is required"}}), {});
    return;
  }
  // The store is read on the executor, never on a transport's I/O thread.
  asio::post(ctx_->executor, [this, party, message_id, done = std::move(done)] {
    MessageState state;
    if (Status s = ctx_->store->GetMessageState(message_id, party, &state); !s.ok()) {
      done(s, {});
      return;
    }
    v1::MessageStatus status;
    FillMessageStatus(state, &status);
    done(Status::Ok(), std::move(status));
  });
}

}  // namespace infoflyt
