#include "ops/grpc_log.h"

#include <grpc/support/log.h>

#include <atomic>
#include <cstring>
#include <mutex>

#include "base/log.h"
#include "server/peer_identity.h"

namespace infoflyt {
namespace {

// The router's events, read by gRPC's threads; null while none is attached.
std::atomic<SecurityEvents*>& AttachedEvents() {
  static std::atomic<SecurityEvents*> events{nullptr};
  return events;
}

// The security-event reason of a gRPC log message that records a handshake refusal, with what
// happened in `detail`; nullptr for any other message.
const char* HandshakeRefusalReason(const char* message, std::string* detail) {
  // A certificate that does not verify is reported by the daemon's verifier, with whose it was
  // (server/client_chain_verifier.h); only a client without one is seen here first.
  if (std::strstr(message, "peer did not return a certificate") != nullptr) {
    *detail = "the client sent no certificate";
    return kReasonNoCertificate;
  }
  return nullptr;
}

void OnGrpcLog(gpr_log_func_args* args) {
  const LogLevel level =
      args->severity == GPR_LOG_SEVERITY_ERROR ? LogLevel::kError : LogLevel::kInfo;
  const char* slash = std::strrchr(args->file, '/');
  LogFields(level,
            {{"source", "grpc"},
             {"at", std::string(slash ? slash + 1 : args->file) + ":" + std::to_string(args->line)},
             {"msg", args->message}});
  SecurityEvents* events = AttachedEvents().load();
  std::string detail;
  const char* reason = events ? HandshakeRefusalReason(args->message, &detail) : nullptr;
  if (reason != nullptr) {
    events->Report({.event = "auth_refused",
                    .peer = "",  // gRPC 1.51 does not say whose handshake it was.
                    .rpc = "(TLS handshake)",
                    .reason = reason,
                    .certificate = {},
                    .detail = detail});
  }
}

}  // namespace

GrpcLogRouter::GrpcLogRouter(SecurityEvents* events) {
  static std::once_flag installed;
  std::call_once(installed, [] { gpr_set_log_function(OnGrpcLog); });
  AttachedEvents().store(events);
}

GrpcLogRouter::~GrpcLogRouter() { AttachedEvents().store(nullptr); }

}  // namespace infoflyt
