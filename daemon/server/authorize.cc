#include "server/authorize.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>

#include <algorithm>
#include <asio/post.hpp>

#include "base/log.h"
#include "server/grpc_status.h"

namespace infoflyt {
namespace {

// Records the refusal of `caller`'s call in the disclosure log, then calls `refused`.
void RecordDenial(const ServiceContext& ctx, const Caller& caller, std::string_view rpc,
                  const Status& refusal, std::function<void(const Status&)> refused) {
  uint64_t suppressed = 0;
  std::string key = caller.party.Key() + ' ' + std::string(rpc);
  if (!ctx.security->AdmitDenyRecord(key, &suppressed)) {
    refused(refusal);
    return;
  }
  CallRecordOp op;
  op.event = "deny";
  op.party = caller.party.Key();
  op.certificate_subject = caller.certificate.subject;
  op.certificate_fingerprint = caller.certificate.fingerprint;
  op.reason = std::string(rpc) + ": " + refusal.message();
  if (suppressed > 0) {
    op.reason += " (and " + std::to_string(suppressed) + " refusals of this call not recorded)";
  }
  ctx.committer->Submit(std::move(op), [metrics = ctx.metrics, security = ctx.security,
                                        executor = ctx.executor, key = std::move(key), suppressed,
                                        refusal, refused = std::move(refused)](WriteOp& w) {
    const Status& recorded = std::get<CallRecordOp>(w).status;
    if (recorded.ok()) {
      metrics->deny_records.Increment();
    } else {
      // Refused all the same: the record is what failed, not the decision. The next refusal
      // is recorded in its place.
      security->RetractDenyRecord(key, suppressed);
      LogError("cannot record a refused call in the disclosure log: " + recorded.message());
    }
    asio::post(executor, [refused, refusal] { refused(refusal); });
  });
}

// A registered caller refused: a security event, then the "deny" record, then `refused`.
void ReportAndRecord(const ServiceContext& ctx, const std::string& peer, const Caller& caller,
                     std::string_view rpc, const char* reason, const Status& refusal,
                     std::function<void(const Status&)> refused) {
  ctx.security->Report({.peer = peer,
                        .rpc = std::string(rpc),
                        .reason = reason,
                        .certificate = caller.certificate,
                        .detail = refusal.message()});
  RecordDenial(ctx, caller, rpc, refusal, std::move(refused));
}

}  // namespace

CallPeer PeerOf(grpc::CallbackServerContext* call) {
  CallPeer peer;
  peer.address = call->peer();
  const auto auth = call->auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) return peer;
  const auto pems = auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (!pems.empty()) peer.pem.assign(pems.front().data(), pems.front().size());
  const auto chain = auth->FindPropertyValues(GRPC_X509_PEM_CERT_CHAIN_PROPERTY_NAME);
  if (!chain.empty()) peer.chain_pem.assign(chain.front().data(), chain.front().size());
  return peer;
}

Status Authenticate(const ServiceContext& ctx, const CallPeer& peer, const Catalogs& catalogs,
                    std::string_view rpc, Caller* caller) {
  std::string reason;
  Status s =
      ctx.authenticator->IdentifyPem(peer.pem, peer.chain_pem, catalogs.parties, caller, &reason);
  if (!s.ok()) {
    ctx.security->Report({.peer = peer.address,
                          .rpc = std::string(rpc),
                          .reason = reason,
                          .certificate = caller->certificate,
                          .detail = s.message()});
  }
  return s;
}

Status Authenticate(const ServiceContext& ctx, grpc::CallbackServerContext* call,
                    const Catalogs& catalogs, std::string_view rpc, Caller* caller) {
  return Authenticate(ctx, PeerOf(call), catalogs, rpc, caller);
}

bool Authorize(const ServiceContext& ctx, const CallPeer& peer, const Catalogs& catalogs,
               const std::vector<PartyKind>& allowed, std::string_view rpc, Caller* caller,
               std::function<void(const Status&)> refused) {
  if (Status s = Authenticate(ctx, peer, catalogs, rpc, caller); !s.ok()) {
    refused(s);
    return false;
  }
  if (std::find(allowed.begin(), allowed.end(), caller->party.kind) != allowed.end()) return true;
  ReportAndRecord(ctx, peer.address, *caller, rpc, kReasonKind,
                  {Code::kPermissionDenied, "a " + std::string(PartyKindName(caller->party.kind)) +
                                                " party may not use this call"},
                  std::move(refused));
  return false;
}

bool Authorize(const ServiceContext& ctx, grpc::CallbackServerContext* call,
               const Catalogs& catalogs, std::initializer_list<PartyKind> allowed,
               std::string_view rpc, Caller* caller, std::function<void(const Status&)> refused) {
  return Authorize(ctx, PeerOf(call), catalogs, std::vector<PartyKind>(allowed), rpc, caller,
                   std::move(refused));
}

void Refuse(const ServiceContext& ctx, const std::string& peer, const Caller& caller,
            std::string_view rpc, const Status& refusal,
            std::function<void(const Status&)> refused) {
  ReportAndRecord(ctx, peer, caller, rpc, kReasonRule, refusal, std::move(refused));
}

void Refuse(const ServiceContext& ctx, grpc::CallbackServerContext* call, const Caller& caller,
            std::string_view rpc, const Status& refusal,
            std::function<void(const Status&)> refused) {
  Refuse(ctx, call->peer(), caller, rpc, refusal, std::move(refused));
}

grpc::ServerUnaryReactor* AuthorizeUnary(const ServiceContext& ctx,
                                         grpc::CallbackServerContext* call,
                                         const Catalogs& catalogs,
                                         std::initializer_list<PartyKind> allowed,
                                         std::string_view rpc, Caller* caller) {
  auto* reactor = call->DefaultReactor();
  if (Authorize(ctx, call, catalogs, allowed, rpc, caller,
                [reactor](const Status& s) { reactor->Finish(ToGrpcStatus(s)); })) {
    return nullptr;
  }
  return reactor;
}

}  // namespace infoflyt
