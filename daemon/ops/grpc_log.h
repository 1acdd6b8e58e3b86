// gRPC core's log lines as the daemon's own (logfmt, source=grpc), and its TLS handshake
// refusals as security events.
//
// Why: gRPC 1.51 verifies a client's certificate inside the TLS handshake (its chain to the
// client CA, expiry, the CRLs) and refuses a bad one before the daemon sees the connection;
// the only trace is gRPC's own log line ("Certificate verify failed with code 23"). Its API
// offers no hook there (nor the peer's address), so the log is where the refusal is seen. The
// log function is process-wide (gpr_set_log_function takes no context): hence one router at
// a time, and the one static pointer it sets.
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
