#include "server/escalator.h"

#include <algorithm>
#include <chrono>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/log.h"
#include "core/time_util.h"

namespace infoflyt {
namespace {

constexpr size_t kSweepLimit = 200;  // Overdue deliveries escalated per sweep.
constexpr int64_t kRetryAfterStoreError = 5 * kMicrosPerSecond;
// The sender of escalations in deliveries and in the store: the daemon, not a party.
constexpr const char* kSender = "infoflytd";

std::chrono::system_clock::time_point TimePoint(int64_t micros) {
  return std::chrono::system_clock::time_point(std::chrono::microseconds(micros));
}

}  // namespace

Escalator::Escalator(ServiceContext ctx, PeerCertificate own_certificate)
    : ctx_(std::move(ctx)),
      own_certificate_(std::move(own_certificate)),
      strand_(asio::make_strand(ctx_.executor)),
      timer_(strand_) {}

void Escalator::Start() {
  asio::post(strand_, [this] { Arm(); });
}

void Escalator::Watch(int64_t deadline) {
  asio::post(strand_, [this, deadline] {
    if (in_flight_ == 0 && (!armed_for_ || deadline < *armed_for_)) ArmAt(deadline);
  });
}

void Escalator::Rearm() {
  asio::post(strand_, [this] {
    if (in_flight_ == 0) Arm();  // Otherwise Arm runs once they are committed.
  });
}

void Escalator::Arm(bool after_empty_sweep) {
  std::optional<int64_t> next;
  if (Status s = ctx_.store->NextDeadline(&next); !s.ok()) {
    LogWarning("escalation: reading deadlines failed, retrying: " + s.message());
    next = NowMicros() + kRetryAfterStoreError;
  }
  if (after_empty_sweep && next && *next <= NowMicros()) {
    next = NowMicros() + kRetryAfterStoreError;
  }
  if (next) {
    ArmAt(*next);
  } else {
    armed_for_.reset();
    timer_.cancel();
  }
}

void Escalator::ArmAt(int64_t deadline) {
  armed_for_ = deadline;
  timer_.expires_at(TimePoint(deadline));
  timer_.async_wait([this](std::error_code ec) {
    if (!ec) Sweep();  // Cancelled: a newer ArmAt took over.
  });
}

void Escalator::Sweep() {
  armed_for_.reset();
  std::vector<OverdueDelivery> overdue;
  if (Status s = ctx_.store->ListOverdue(NowMicros(), kSweepLimit, &overdue); !s.ok()) {
    LogWarning("escalation: reading overdue deliveries failed, retrying: " + s.message());
    ArmAt(NowMicros() + kRetryAfterStoreError);
    return;
  }
  const auto catalogs = ctx_.catalogs->Get();
  for (const OverdueDelivery& o : overdue) {
    EscalateOp op;
    op.delivery_id = o.delivery_id;
    if (!Build(*catalogs, o, &op)) {
      LogWarning("escalation: nobody to tell about delivery " + std::to_string(o.delivery_id));
    }
    Submit(std::move(op));
  }
  // With escalations in flight, re-arm once they are committed (the store then no longer
  // lists them); otherwise now.
  if (in_flight_ == 0) Arm(overdue.empty());
}

void Escalator::Submit(EscalateOp op) {
  ++in_flight_;
  ctx_.committer->Submit(std::move(op), [this](WriteOp& w) {
    auto& done = std::get<EscalateOp>(w);
    if (done.status.ok()) {
      ctx_.metrics->escalations.Increment();
      ctx_.hub->Notify(done.receipt.recipients);
      std::string to;
      for (const auto& r : done.receipt.recipients) to += (to.empty() ? "" : ",") + r;
      LogInfo("escalated delivery=" + std::to_string(done.delivery_id) +
              " message=" + done.escalation.message_id + " to=" + to);
    } else if (done.status.code() != Code::kFailedPrecondition) {  // Not acknowledged meanwhile.
      LogWarning("escalation of delivery " + std::to_string(done.delivery_id) +
                 " failed: " + done.status.message());
    }
    asio::post(strand_, [this] {
      if (--in_flight_ == 0) Arm();
    });
  });
}

bool Escalator::Build(const Catalogs& catalogs, const OverdueDelivery& o, EscalateOp* op) const {
  const std::string number = o.recipient.substr(o.recipient.find('/') + 1);
  const Municipality* municipality = catalogs.places.Find(number);
  v1::Envelope envelope;
  v1::HandlingRestriction handling = v1::TLP_AMBER;
  v1::HandlingRestriction_Parse(o.handling, &handling);
  envelope.set_legal_basis(o.legal_basis);
  envelope.set_handling(handling);
  auto* notice = envelope.mutable_escalation_notice();
  notice->set_message_id(o.message_id);
  notice->set_message_type(o.message_type);
  notice->set_municipality(o.recipient);
  if (municipality != nullptr) notice->set_municipality_name(municipality->name);
  notice->set_delivery_id(o.delivery_id);
  *notice->mutable_posted_at() = ToTimestamp(o.posted_at);
  *notice->mutable_deadline() = ToTimestamp(o.deadline);
  notice->set_received(o.received_at.has_value());

  NewMessage& m = op->escalation;
  m.message_id = NewUuidV7();
  m.event = "escalate";
  m.policy = catalogs.policy;
  m.sender = kSender;
  // One escalation per delivery, also as a unique key in the store.
  m.idempotency_key = "escalation-" + std::to_string(o.delivery_id);
  const std::string bytes = envelope.SerializeAsString();
  m.request_hash = Sha256(bytes);
  m.message_type = "escalation_notice";
  m.legal_basis = o.legal_basis;
  m.legal_citation = o.legal_citation;
  m.handling = o.handling;
  m.subject_hash = o.subject_hash;
  m.sender_certificate_subject = own_certificate_.subject;
  m.sender_certificate_fingerprint = own_certificate_.fingerprint;

  // A delivery made on a flag's owner's behalf is escalated to that party, not to the sender,
  // who was never told of it; whether, and to whom, the catalogue decides.
  DisclosurePlan plan;
  PlanEscalation(envelope, catalogs, o.recipient, o.legal_basis,
                 o.on_behalf_of.empty() ? o.sender : o.on_behalf_of,
                 o.recipient + " did not acknowledge delivery " + std::to_string(o.delivery_id) +
                     " by " + FormatRfc3339(o.deadline),
                 &plan);
  m.recipients = std::move(plan.recipients);
  m.refusals = std::move(plan.refusals);
  return !m.recipients.empty() || !m.refusals.empty();
}

}  // namespace infoflyt
