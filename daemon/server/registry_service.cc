#include "server/registry_service.h"

#include <algorithm>

#include "base/clock.h"
#include "base/crypto.h"
#include "core/national_id.h"
#include "server/authorize.h"
#include "server/grpc_status.h"
#include "server/registry_actions.h"
#include "core/time_util.h"

namespace infoflyt {

grpc::ServerUnaryReactor* RegistryService::Flag(grpc::CallbackServerContext* call,
                                                const v1::FlagRequest* request,
                                                v1::FlagRecord* response) {
  const auto catalogs = ctx_.catalogs->Get();
  Caller caller;
  if (auto* refused =
          AuthorizeUnary(ctx_, call, *catalogs, kFlagSetters, "Registry/Flag", &caller)) {
    return refused;
  }
  auto* reactor = call->DefaultReactor();
  actions_.Flag(caller, *catalogs, *request, "",
                [reactor, response](const Status& s, v1::FlagRecord record) {
                  *response = std::move(record);
                  reactor->Finish(ToGrpcStatus(s));
                });
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::Unflag(grpc::CallbackServerContext* call,
                                                  const v1::UnflagRequest* request,
                                                  v1::FlagRecord* response) {
  const auto catalogs = ctx_.catalogs->Get();
  Caller caller;
  if (auto* refused =
          AuthorizeUnary(ctx_, call, *catalogs, kFlagSetters, "Registry/Unflag", &caller)) {
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
