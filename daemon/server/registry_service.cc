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
  if (catalogs->legal_bases.Find(request->legal_basis()) == nullptr) {
    violations.push_back({"legal_basis", catalogs->legal_bases.UnknownIdDescription()});
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
  return Commit(call, std::move(op), &FlagOp::flag, response);
}

grpc::ServerUnaryReactor* RegistryService::Unflag(grpc::CallbackServerContext* call,
                                                  const v1::UnflagRequest* request,
                                                  v1::FlagRecord* response) {
  Caller caller;
  if (auto* refused =
          AuthorizeUnary(ctx_, call, *ctx_.catalogs->Get(), kMayFlag, "Registry/Unflag", &caller)) {
    return refused;
  }
  if (request->flag_id().empty()) {
    return FinishNow(call, Status::InvalidArgument({{"flag_id", "is required"}}));
  }
  return Commit(call, UnflagOp{request->flag_id(), caller.party.Key(), {}, {}}, &UnflagOp::result,
                response);
}

grpc::ServerUnaryReactor* RegistryService::ListFlags(grpc::CallbackServerContext* call,
                                                     const v1::ListFlagsRequest* request,
                                                     v1::ListFlagsResponse* response) {
  Caller caller;
  if (auto* refused =
          AuthorizeUnary(ctx_, call, *ctx_.catalogs->Get(), {PartyKind::kPst, PartyKind::kPolice},
                         "Registry/ListFlags", &caller)) {
    return refused;
  }
  std::string subject_hash;
  if (!request->national_id().empty()) {
    if (std::string problem = NationalIdProblem(request->national_id()); !problem.empty()) {
      return FinishNow(call, Status::InvalidArgument({{"national_id", std::move(problem)}}));
    }
    subject_hash = HmacSha256(ctx_.subject_key, request->national_id());
  }
  const int64_t now = NowMicros();
  std::vector<FlagInfo> flags;
  if (Status s = ctx_.store->ListFlags(subject_hash, request->include_inactive(), now, &flags);
      !s.ok()) {
    return FinishNow(call, s);
  }
  for (const FlagInfo& f : flags) ToProto(f, now, response->add_flags());
  return FinishNow(call, Status::Ok());
}

}  // namespace infoflyt
