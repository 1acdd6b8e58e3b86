#include "server/authorize.h"

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
void ReportAndRecord(const ServiceContext& ctx, grpc::CallbackServerContext* call,
                     const Caller& caller, std::string_view rpc, const char* reason,
                     const Status& refusal, std::function<void(const Status&)> refused) {
  ctx.security->Report({.peer = call->peer(),
                        .rpc = std::string(rpc),
                        .reason = reason,
                        .certificate = caller.certificate,
                        .detail = refusal.message()});
  RecordDenial(ctx, caller, rpc, refusal, std::move(refused));
}

}  // namespace

Status Authenticate(const ServiceContext& ctx, grpc::CallbackServerContext* call,
                    const Catalogs& catalogs, std::string_view rpc, Caller* caller) {
  std::string reason;
  Status s = ctx.authenticator->Identify(*call->auth_context(), catalogs.parties, caller, &reason);
  if (!s.ok()) {
    ctx.security->Report({.peer = call->peer(),
                          .rpc = std::string(rpc),
                          .reason = reason,
                          .certificate = caller->certificate,
                          .detail = s.message()});
  }
  return s;
}

bool Authorize(const ServiceContext& ctx, grpc::CallbackServerContext* call,
               const Catalogs& catalogs, std::initializer_list<PartyKind> allowed,
               std::string_view rpc, Caller* caller, std::function<void(const Status&)> refused) {
  if (Status s = Authenticate(ctx, call, catalogs, rpc, caller); !s.ok()) {
    refused(s);
    return false;
  }
  if (std::find(allowed.begin(), allowed.end(), caller->party.kind) != allowed.end()) return true;
  ReportAndRecord(ctx, call, *caller, rpc, kReasonKind,
                  {Code::kPermissionDenied, "a " + std::string(PartyKindName(caller->party.kind)) +
                                                " party may not use this call"},
                  std::move(refused));
  return false;
}

void Refuse(const ServiceContext& ctx, grpc::CallbackServerContext* call, const Caller& caller,
            std::string_view rpc, const Status& refusal,
            std::function<void(const Status&)> refused) {
  ReportAndRecord(ctx, call, caller, rpc, kReasonRule, refusal, std::move(refused));
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
