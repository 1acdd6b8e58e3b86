// Who may call what: identifies the caller from its certificate and checks its party kind.
#pragma once

#include <grpcpp/support/server_callback.h>

#include <initializer_list>

#include "server/exchange_service.h"

namespace infoflyt {

// UNAUTHENTICATED / PERMISSION_DENIED (see PeerAuthenticator) unless the caller is a registered
// party of one of the `allowed` kinds.
Status Authorize(const ServiceContext& ctx, grpc::CallbackServerContext* call,
                 const Catalogs& catalogs, std::initializer_list<PartyKind> allowed,
                 Caller* caller);

}  // namespace infoflyt
