#include "server/registry_service.h"

#include <algorithm>

#include "base/clock.h"
#include "base/crypto.h"
#include "core/national_id.h"
#include "server/authorize.h"
#include "server/grpc_status.h"
#include "server/time_util.h"

namespace infoflyt {
namespace {

constexpr std::initializer_list<PartyKind> kMayFlag = {PartyKind::kPst, PartyKind::kPolice,
                                                       PartyKind::kCorrectional};

// The caller, and the rules of the call's snapshot.
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

}  // namespace

template <typename Op>
grpc::ServerUnaryReactor* RegistryService::Commit(grpc::CallbackServerContext* call, Op op,
                                                  FlagInfo Op::*result,
                                                  v1::FlagRecord* response) const {
  auto* reactor = call->DefaultReactor();
  ctx_.committer->Submit(std::move(op), [reactor, response, result](WriteOp& w) {
    auto& done = std::get<Op>(w);
    if (done.status.ok()) ToProto(done.*result, NowMicros(), response);
    reactor->Finish(ToGrpcStatus(done.status));
  });
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::Flag(grpc::CallbackServerContext* call,
                                                const v1::FlagRequest* request,
                                                v1::FlagRecord* response) {
  const auto catalogs = ctx_.catalogs->Get();
  Caller caller;
  if (auto* refused = AuthorizeUnary(ctx_, call, *catalogs, kMayFlag, "Registry/Flag", &caller)) {
    return refused;
  }
  const int64_t now = NowMicros();
  std::vector<FieldViolation> violations;
  if (std::string problem = NationalIdProblem(request->national_id()); !problem.empty()) {
    violations.push_back({"national_id", std::move(problem)});
  }
  if (request->reason() == v1::FLAG_REASON_UNSPECIFIED ||
      !v1::FlagReason_IsValid(request->reason())) {
    violations.push_back({"reason",
                          "must be one of RETURNED_FOREIGN_FIGHTER, TERROR_CONVICT, "
                          "RADICALISATION_CONCERN"});
  }
  const LegalBasis* basis = catalogs->legal_bases.Find(request->legal_basis());
  if (basis == nullptr) {
    violations.push_back({"legal_basis", catalogs->legal_bases.UnknownIdDescription()});
  } else if (!basis->CoversFlagsOf(caller.party.kind)) {
    violations.push_back({"legal_basis", basis->id + " has no \"flag\" flow from a " +
                                             std::string(PartyKindName(caller.party.kind)) +
                                             " party in the catalogue"});
  }
  if (request->has_expires_at() && request->expires_at().seconds() * kMicrosPerSecond <= now) {
    violations.push_back({"expires_at", "must be in the future"});
  }
  if (!violations.empty()) return FinishNow(call, Status::InvalidArgument(std::move(violations)));

  FlagOp op;
  op.flag.flag_id = NewUuidV7();
  op.flag.reason = v1::FlagReason_Name(request->reason());
  op.flag.flagged_by = caller.party.Key();
  op.flag.legal_basis = request->legal_basis();
  if (request->has_expires_at()) {
    op.flag.expires_at = request->expires_at().seconds() * kMicrosPerSecond;
  }
  op.subject_hash = HmacSha256(ctx_.subject_key, request->national_id());
  op.caller = RegistryCallerOf(caller, *catalogs);
  op.legal_citation = basis->citation;
  return Commit(call, std::move(op), &FlagOp::flag, response);
}

grpc::ServerUnaryReactor* RegistryService::Unflag(grpc::CallbackServerContext* call,
                                                  const v1::UnflagRequest* request,
                                                  v1::FlagRecord* response) {
  const auto catalogs = ctx_.catalogs->Get();
  Caller caller;
  if (auto* refused = AuthorizeUnary(ctx_, call, *catalogs, kMayFlag, "Registry/Unflag", &caller)) {
    return refused;
  }
  if (request->flag_id().empty()) {
    return FinishNow(call, Status::InvalidArgument({{"flag_id", "is required"}}));
  }
  UnflagOp op{
      request->flag_id(), RegistryCallerOf(caller, *catalogs), LegalBasesOf(catalogs), {}, {}};
  auto* reactor = call->DefaultReactor();
  ctx_.committer->Submit(std::move(op), [this, call, reactor, response, caller](WriteOp& w) {
    auto& done = std::get<UnflagOp>(w);
    if (done.status.ok()) {
      ToProto(done.result, NowMicros(), response);
      reactor->Finish(grpc::Status::OK);
    } else if (done.status.code() == Code::kPermissionDenied) {
      // Another party's flag: refused like any call the caller may not make, and on the record.
      Refuse(ctx_, call, caller, "Registry/Unflag", done.status,
             [reactor](const Status& s) { reactor->Finish(ToGrpcStatus(s)); });
    } else {
      reactor->Finish(ToGrpcStatus(done.status));
    }
  });
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::ListFlags(grpc::CallbackServerContext* call,
                                                     const v1::ListFlagsRequest* request,
                                                     v1::ListFlagsResponse* response) {
  const auto catalogs = ctx_.catalogs->Get();
  Caller caller;
  if (auto* refused = AuthorizeUnary(ctx_, call, *catalogs, {PartyKind::kPst, PartyKind::kPolice},
                                     "Registry/ListFlags", &caller)) {
    return refused;
  }
  ListFlagsOp op;
  op.include_inactive = request->include_inactive();
  op.reason = std::string("Registry/ListFlags") + (request->national_id().empty() ? " all" : "") +
              (op.include_inactive ? " include_inactive" : "");
  if (request->national_id().empty()) {
    if (!catalogs->legal_bases.registry().MayListAll(caller.party.kind)) {
      auto* reactor = call->DefaultReactor();
      Refuse(ctx_, call, caller, "Registry/ListFlags",
             {Code::kPermissionDenied,
              "national_id: a " + std::string(PartyKindName(caller.party.kind)) +
                  " party looks flags up by identity number; listing every flag is for the "
                  "kinds in the catalogue's [registry] may_list_all"},
             [reactor](const Status& s) { reactor->Finish(ToGrpcStatus(s)); });
      return reactor;
    }
  } else if (std::string problem = NationalIdProblem(request->national_id()); !problem.empty()) {
    return FinishNow(call, Status::InvalidArgument({{"national_id", std::move(problem)}}));
  } else {
    op.subject_hash = HmacSha256(ctx_.subject_key, request->national_id());
  }
  op.caller = RegistryCallerOf(caller, *catalogs);
  op.rules = LegalBasesOf(catalogs);
  // A lookup is a write: what it showed, and to whom, is on the record with it.
  auto* reactor = call->DefaultReactor();
  ctx_.committer->Submit(std::move(op), [reactor, response](WriteOp& w) {
    auto& done = std::get<ListFlagsOp>(w);
    const int64_t now = NowMicros();
    if (done.status.ok()) {
      for (const FlagInfo& f : done.flags) ToProto(f, now, response->add_flags());
    }
    reactor->Finish(ToGrpcStatus(done.status));
  });
  return reactor;
}

}  // namespace infoflyt
