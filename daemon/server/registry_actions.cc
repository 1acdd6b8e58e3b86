#include "server/registry_actions.h"

#include "base/clock.h"
#include "base/crypto.h"
#include "core/national_id.h"
#include "core/time_util.h"

namespace infoflyt {

RegistryCaller RegistryCallerOf(const Caller& caller, const Catalogs& catalogs) {
  return {caller.party.Key(), caller.party.kind, caller.certificate.subject,
          caller.certificate.fingerprint, catalogs.policy};
}

void ToProto(const FlagInfo& f, int64_t now, v1::FlagRecord* out) {
  out->set_flag_id(f.flag_id);
  v1::FlagReason reason = v1::FLAG_REASON_UNSPECIFIED;
  v1::FlagReason_Parse(f.reason, &reason);
  out->set_reason(reason);
  out->set_flagged_by(f.flagged_by);
  out->set_legal_basis(f.legal_basis);
  *out->mutable_flagged_at() = ToTimestamp(f.flagged_at);
  if (f.expires_at) *out->mutable_expires_at() = ToTimestamp(*f.expires_at);
  if (f.unflagged_at) *out->mutable_unflagged_at() = ToTimestamp(*f.unflagged_at);
  out->set_unflagged_by(f.unflagged_by);
  out->set_active(f.ActiveAt(now));
}

void RegistryActions::Flag(const Caller& caller, const Catalogs& catalogs,
                           const v1::FlagRequest& request, std::string flag_id,
                           std::function<void(const Status&, v1::FlagRecord)> done) const {
  const int64_t now = NowMicros();
  std::vector<FieldViolation> violations;
  if (std::string problem = NationalIdProblem(request.national_id()); !problem.empty()) {
    violations.push_back({"national_id", std::move(problem)});
  }
  if (request.reason() == v1::FLAG_REASON_UNSPECIFIED ||
      !v1::FlagReason_IsValid(request.reason())) {
    violations.push_back({"reason",
                          "must be one of RETURNED_FOREIGN_FIGHTER, TERROR_CONVICT, "
                          "RADICALISATION_CONCERN"});
  }
  const LegalBasis* basis = catalogs.legal_bases.Find(request.legal_basis());
  if (basis == nullptr) {
    violations.push_back({"legal_basis", catalogs.legal_bases.UnknownIdDescription()});
  } else if (!basis->CoversFlagsOf(caller.party.kind)) {
    violations.push_back({"legal_basis", basis->id + " has no \"flag\" flow from a " +
                                             std::string(PartyKindName(caller.party.kind)) +
                                             " party in the catalogue"});
  }
  if (request.has_expires_at() && request.expires_at().seconds() * kMicrosPerSecond <= now) {
    violations.push_back({"expires_at", "must be in the future"});
  }
  if (!violations.empty()) {
    done(Status::InvalidArgument(std::move(violations)), {});
    return;
  }
  FlagOp op;
  op.flag.flag_id = flag_id.empty() ? NewUuidV7() : std::move(flag_id);
  op.flag.reason = v1::FlagReason_Name(request.reason());
  op.flag.flagged_by = caller.party.Key();
  op.flag.legal_basis = request.legal_basis();
  if (request.has_expires_at()) {
    op.flag.expires_at = request.expires_at().seconds() * kMicrosPerSecond;
  }
  op.subject_hash = HmacSha256(ctx_->subject_key, request.national_id());
  op.caller = RegistryCallerOf(caller, catalogs);
  op.legal_citation = basis->citation;
  ctx_->committer->Submit(std::move(op), [done = std::move(done)](WriteOp& w) {
    const auto& stored = std::get<FlagOp>(w);
    v1::FlagRecord record;
    if (stored.status.ok() || stored.status.code() == Code::kAlreadyExists) {
      ToProto(stored.flag, NowMicros(), &record);
    }
    done(stored.status, std::move(record));
  });
}

}  // namespace infoflyt
