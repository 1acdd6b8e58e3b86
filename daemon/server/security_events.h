// Refused calls and ended streams as operators see them (IHE ATNA's node-authentication
// failure; X-Road's denied requests): one structured log line each, at most one per peer,
// call and reason a minute (the next line says how many were left out), and every one counted
// in infoflyt_auth_failures_total{reason}.
#pragma once

#include <string>

#include "base/rate_bound.h"
#include "server/metrics.h"
#include "server/peer_certificate.h"

namespace infoflyt {

struct SecurityEvent {
  std::string event = "auth_refused";  // Or "stream_ended": a trusted stream lost its trust.
  std::string peer;             // gRPC's peer URI, e.g. "ipv4:127.0.0.1:50312"; empty if not known.
  std::string rpc;              // e.g. "Exchange/Post", or "(TLS handshake)".
  std::string reason;           // A kReason constant.
  PeerCertificate certificate;  // What is known of the peer's certificate.
  std::string detail;           // The refusal's message.
};

class SecurityEvents {
 public:
  explicit SecurityEvents(Metrics* metrics) : metrics_(metrics) {}
  void Report(const SecurityEvent& event);
  // Whether a refusal of `key` (party and call) is to be recorded in the disclosure log now:
  // one a minute, `suppressed` counting those left out since the last.
  bool AdmitDenyRecord(const std::string& key, uint64_t* suppressed);
  // The admitted record of `key` (standing for `suppressed` more) could not be written: the
  // next refusal is recorded instead, counting them.
  void RetractDenyRecord(const std::string& key, uint64_t suppressed);

 private:
  Metrics* const metrics_;
  RateBound lines_{60'000'000, 10'000};
  RateBound deny_records_{60'000'000, 10'000};
};

}  // namespace infoflyt
