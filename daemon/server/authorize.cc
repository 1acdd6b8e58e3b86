#include "server/authorize.h"

#include <algorithm>

namespace infoflyt {

Status Authorize(const ServiceContext& ctx, grpc::CallbackServerContext* call,
                 const Catalogs& catalogs, std::initializer_list<PartyKind> allowed,
                 Caller* caller) {
  if (Status s = ctx.authenticator->Identify(*call->auth_context(), catalogs.parties, caller);
      !s.ok()) {
    ctx.metrics->auth_failures.Increment();
    return s;
  }
  if (std::find(allowed.begin(), allowed.end(), caller->party.kind) == allowed.end()) {
    return {Code::kPermissionDenied,
            "a " + std::string(PartyKindName(caller->party.kind)) + " party may not use this call"};
  }
  return Status::Ok();
}

}  // namespace infoflyt
