// Whether the daemon's own gRPC port still answers a TLS handshake: connects, sends a
// ClientHello made by OpenSSL and waits for the server's first handshake record, then closes
// (gRPC logs nothing for a handshake abandoned there).
//
// Why: gRPC 1.51's listener stops accepting for good once accept() fails, e.g. with EMFILE
// (grpc/grpc#16058, #20418), while the process and its ops port look healthy. A TCP connect
// alone would not see it: the kernel completes connections into the backlog of a listener
// nobody accepts from.
#pragma once

#include <chrono>
#include <string>

#include "base/status.h"

namespace infoflyt {

// `address`: "host:port" as bound (IPv4 or IPv6 literal, or "localhost"). UNAVAILABLE naming
// the step that failed or timed out.
Status ProbeTlsListener(const std::string& address, std::chrono::milliseconds timeout);

}  // namespace infoflyt
