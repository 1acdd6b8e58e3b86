// What a peer's X.509 certificate says, parsed once per distinct certificate: the SPIFFE ID
// that names a party, and what a security event or a revocation check needs.
#pragma once

#include <openssl/x509.h>

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace infoflyt {

struct PeerCertificate {
  std::string spiffe_id;    // Empty if the certificate has no spiffe:// URI SAN.
  std::string subject;      // RFC 2253 subject, for the disclosure record.
  std::string issuer;       // RFC 2253 issuer, to find its CA's CRL.
  std::string serial;       // Serial number, upper-case hex, as CRLs list it.
  std::string fingerprint;  // SHA-256 of the DER certificate, lower-case hex.
  // Issuer and serial of each CA certificate the peer sent with its own (intermediates), to
  // find a revoked CA in the CRLs.
  std::vector<std::pair<std::string, std::string>> chain;
};

// Parses a PEM certificate. Fails on more than one spiffe:// URI SAN.
Status ParsePeerCertificate(const std::string& pem, PeerCertificate* out);
// Sets `cert->chain` from the PEM chain a peer sent (its own certificate first, as gRPC gives
// it); certificates that do not parse are left out.
void ParsePeerChain(const std::string& chain_pem, PeerCertificate* cert);

// Why a party's client certificate is refused, as security events and metrics name it.
inline constexpr const char* kReasonUnparsable = "unparsable certificate";
inline constexpr const char* kReasonCaAsClient = "CA certificate used as client";
inline constexpr const char* kReasonNoClientAuth = "no clientAuth";
inline constexpr const char* kReasonUriSans = "not exactly one URI SAN";

// As ParsePeerCertificate, for a party's client certificate: UNAUTHENTICATED, naming the
// reason (also in `reason`, one of the kReason constants), for a CA certificate (CA:TRUE), one
// without the clientAuth extended key usage, or one without exactly one URI SAN. `out` is set
// whenever the certificate parses, refused or not, so that a refusal can say whose it was.
Status ParseClientCertificate(const std::string& pem, PeerCertificate* out, std::string* reason);

// ParseClientCertificate's checks of a certificate already parsed (the handshake's verifier).
Status CheckClientProfile(X509* cert, std::string* reason);

}  // namespace infoflyt
