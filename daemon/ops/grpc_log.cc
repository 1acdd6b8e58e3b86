#include "ops/grpc_log.h"

#include <grpc/support/log.h>
#include <openssl/x509_vfy.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <utility>

#include "base/log.h"
#include "server/revocation_list.h"

namespace infoflyt {
namespace {

// The router's events, read by gRPC's threads; null while none is attached.
std::atomic<SecurityEvents*>& AttachedEvents() {
  static std::atomic<SecurityEvents*> events{nullptr};
  return events;
}

const char* ReasonOfVerifyError(long code) {  // NOLINT(google-runtime-int): OpenSSL's type.
  switch (code) {
    case X509_V_ERR_CERT_REVOKED:
      return kReasonRevoked;
    case X509_V_ERR_CRL_HAS_EXPIRED:
      return kReasonStaleCrl;
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return "expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "not yet valid";
    case X509_V_ERR_INVALID_PURPOSE:
      return kReasonNoClientAuth;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return "unknown CA";
    default:
      return "certificate verify failed";
  }
}

// The security-event reason of a gRPC log message that records a handshake refusal, with the
// OpenSSL text in `detail`; nullptr for any other message.
const char* HandshakeRefusalReason(const char* message, std::string* detail) {
  // gRPC logs the verify error's code, then (on the same thread) that the handshake failed.
  thread_local bool code_reported = false;
  long code = 0;  // NOLINT(google-runtime-int): OpenSSL's type.
  if (std::sscanf(message, "Certificate verify failed with code %ld", &code) == 1) {
    code_reported = true;
    *detail = X509_verify_cert_error_string(code);
    return ReasonOfVerifyError(code);
  }
  if (std::strstr(message, "routines::certificate verify failed") != nullptr) {
    if (std::exchange(code_reported, false)) return nullptr;  // Reported with its code.
    *detail = "certificate verify failed";
    return "certificate verify failed";
  }
  if (std::strstr(message, "peer did not return a certificate") != nullptr) {
    *detail = "the client sent no certificate";
    return "no client certificate";
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
