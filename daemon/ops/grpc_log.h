// gRPC core's log lines as the daemon's own (logfmt, source=grpc), and the TLS handshakes it
// refuses for want of a client certificate as security events.
//
// Why: gRPC 1.51 refuses a client that sends no certificate inside the TLS handshake, before
// the daemon's certificate verifier runs (server/client_chain_verifier.h); the only trace is
// gRPC's own log line, without the peer's address. The log function is process-wide
// (gpr_set_log_function takes no context): hence one router at a time, and the one static pointer
// it sets.
#pragma once

#include "server/security_events.h"

namespace infoflyt {

class GrpcLogRouter {
 public:
  // Installs the log function (once per process) and reports handshake refusals to `events`.
  explicit GrpcLogRouter(SecurityEvents* events);
  // Reports no more; gRPC's lines are still written in the daemon's format.
  ~GrpcLogRouter();
  GrpcLogRouter(const GrpcLogRouter&) = delete;
  GrpcLogRouter& operator=(const GrpcLogRouter&) = delete;
};

}  // namespace infoflyt
