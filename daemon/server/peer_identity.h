// Turns the verified client certificate of a call into the calling party. The TLS layer has
// already checked the chain to the configured CA; here the SPIFFE URI SAN
// spiffe://<trust-domain>/<kind>/<id> names the party, which must be registered.
#pragma once

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>

#include <mutex>
#include <string>
#include <unordered_map>

#include "base/status.h"
#include "core/parties.h"

namespace infoflyt {

// What a peer certificate says, parsed once per distinct certificate.
struct PeerCertificate {
  std::string spiffe_id;    // Empty if the certificate has no spiffe:// URI SAN.
  std::string subject;      // RFC 2253 subject, for the disclosure record.
  std::string fingerprint;  // SHA-256 of the DER certificate, hex.
};

// Parses a PEM certificate. Fails on more than one spiffe:// URI SAN.
Status ParsePeerCertificate(const std::string& pem, PeerCertificate* out);
// As ParsePeerCertificate, for a party's client certificate: UNAUTHENTICATED, naming the reason,
// for a CA certificate (CA:TRUE), one without the clientAuth extended key usage, or one without
// exactly one URI SAN.
Status ParseClientCertificate(const std::string& pem, PeerCertificate* out);

struct Caller {
  Party party;
  PeerCertificate certificate;
};

class PeerAuthenticator {
 public:
  explicit PeerAuthenticator(std::string trust_domain) : trust_domain_(std::move(trust_domain)) {}

  // UNAUTHENTICATED without a client certificate or SPIFFE ID, or for one ParseClientCertificate
  // refuses; PERMISSION_DENIED for another
  // trust domain, a malformed path or a party not in `parties`.
  Status Identify(const grpc::AuthContext& auth, const PartyRegistry& parties, Caller* out);

 private:
  const std::string trust_domain_;
  std::mutex mu_;
  // Certificates seen recently, so the X.509 parse happens once per certificate, not per call.
  std::unordered_map<std::string, PeerCertificate> cache_;
};

}  // namespace infoflyt
