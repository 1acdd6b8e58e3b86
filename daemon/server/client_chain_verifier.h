// Verifies a client's certificate chain inside the TLS handshake, in place of gRPC's own check,
// so that a refused handshake can say whose certificate it was.
//
// Why: gRPC 1.51 verifies the chain in OpenSSL's handshake and logs only the error code of a
// refusal ("Certificate verify failed with code 23"), never the certificate. Asked not to verify
// (GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_BUT_DONT_VERIFY), it hands the peer's chain
// to an external verifier before the handshake completes; this one runs the same OpenSSL
// verification (X509_verify_cert, purpose sslclient, the published CRLs as gRPC would load
// them) and reports each refusal as a security event with the certificate's subject,
// fingerprint and SPIFFE ID. gRPC still does not say the peer's address there.
#pragma once

#include <grpcpp/security/tls_certificate_verifier.h>

#include <memory>
#include <mutex>
#include <string>

#include "base/status.h"
#include "server/security_events.h"

namespace infoflyt {

// The trust a handshake is verified against: the client CA bundle and the CRLs that are to be
// enforced at the handshake, as the trust publisher wrote them (trust_publisher.h).
class ClientChainVerifier {
 public:
  // `require_fresh_crl` (tls.require_fresh_crl): a CA whose CRL is past its nextUpdate has its
  // clients refused; otherwise that CRL's revocations still apply and its clients are served.
  ClientChainVerifier(SecurityEvents* events, bool require_fresh_crl)
      : events_(events), require_fresh_crl_(require_fresh_crl) {}
  ClientChainVerifier(const ClientChainVerifier&) = delete;
  ClientChainVerifier& operator=(const ClientChainVerifier&) = delete;

  // Reads the bundle (PEM certificates) and every CRL file in `crl_directory` (PEM; "" for
  // none) and verifies against them from now on. FAILED_PRECONDITION if the bundle holds no
  // certificate or a file cannot be read; the trust in force is then kept.
  Status Load(const std::string& ca_bundle, const std::string& crl_directory);

  // OK if `leaf_pem` chains to a CA of the bundle (through intermediates in `chain_pem`, the
  // peer's chain, leaf first), is valid now, may be used for client authentication, and
  // neither it nor a CA above it is revoked by a loaded CRL (a CA without a CRL is not checked,
  // as gRPC does). Otherwise UNAUTHENTICATED naming the reason, reported to the events.
  Status Verify(const std::string& leaf_pem, const std::string& chain_pem) const;

  // An external verifier for TlsServerCredentialsOptions::set_certificate_verifier, which
  // answers on gRPC's handshake thread (verification is CPU work on certificates in memory).
  static std::shared_ptr<grpc::experimental::CertificateVerifier> ForGrpc(
      std::shared_ptr<const ClientChainVerifier> verifier);

 private:
  struct Trust;
  SecurityEvents* const events_;
  const bool require_fresh_crl_;
  mutable std::mutex mu_;
  std::shared_ptr<const Trust> trust_;  // Null until loaded: then every handshake is refused.
};

}  // namespace infoflyt
