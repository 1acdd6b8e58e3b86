// Who may call what: identifies the caller from its certificate and checks its party kind.
// Every refusal is a security event (security_events.h); a call refused to a registered party
// is also a record in the disclosure log (event "deny") before the refusal is answered.
#pragma once

#include <grpcpp/support/server_callback.h>

#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "server/exchange_service.h"

namespace infoflyt {

inline constexpr const char* kReasonKind = "kind may not call";
inline constexpr const char* kReasonRule = "refused by a rule";

// What a transport knows of its peer: its address as the security events show it, and the client
// certificate its handshake verified (PEM; empty if none).
struct CallPeer {
  std::string address;  // e.g. gRPC's "ipv4:127.0.0.1:50312", or the web port's "web:...".
  std::string pem;
  std::string chain_pem;
};

// The peer of a gRPC call.
CallPeer PeerOf(grpc::CallbackServerContext* call);

// UNAUTHENTICATED / PERMISSION_DENIED (see PeerAuthenticator) unless the caller is a registered
// party; `rpc` (e.g. "Exchange/Post") names the call in the security event.
Status Authenticate(const ServiceContext& ctx, const CallPeer& peer, const Catalogs& catalogs,
                    std::string_view rpc, Caller* caller);
Status Authenticate(const ServiceContext& ctx, grpc::CallbackServerContext* call,
                    const Catalogs& catalogs, std::string_view rpc, Caller* caller);

// As Authenticate, and the caller's kind must be one of `allowed`. True if so. Otherwise false,
// and `refused` is called with the refusal: at once, or, for a registered party of another
// kind, on the executor once the "deny" record is durable (at most one record per party and
// call a minute, saying how many refusals it stands for).
bool Authorize(const ServiceContext& ctx, const CallPeer& peer, const Catalogs& catalogs,
               const std::vector<PartyKind>& allowed, std::string_view rpc, Caller* caller,
               std::function<void(const Status&)> refused);
bool Authorize(const ServiceContext& ctx, grpc::CallbackServerContext* call,
               const Catalogs& catalogs, std::initializer_list<PartyKind> allowed,
               std::string_view rpc, Caller* caller, std::function<void(const Status&)> refused);

// Refuses a registered `caller` what a rule does not let it do (e.g. end another party's flag),
// though its kind may make the call: a security event and a "deny" record, as Authorize makes
// for a caller of the wrong kind, then `refused` with `refusal`.
void Refuse(const ServiceContext& ctx, const std::string& peer, const Caller& caller,
            std::string_view rpc, const Status& refusal,
            std::function<void(const Status&)> refused);
void Refuse(const ServiceContext& ctx, grpc::CallbackServerContext* call, const Caller& caller,
            std::string_view rpc, const Status& refusal,
            std::function<void(const Status&)> refused);

// Authorize for unary calls: nullptr if the caller may go on, else the call's reactor, which is
// (or will be) finished with the refusal.
grpc::ServerUnaryReactor* AuthorizeUnary(const ServiceContext& ctx,
                                         grpc::CallbackServerContext* call,
                                         const Catalogs& catalogs,
                                         std::initializer_list<PartyKind> allowed,
                                         std::string_view rpc, Caller* caller);

}  // namespace infoflyt
