// Turns the verified client certificate of a call into the calling party. The TLS layer has
// already checked the chain to the configured CA (and its CRLs as of the connection's
// handshake); here the certificate's profile is checked, the SPIFFE URI SAN
// spiffe://<trust-domain>/<kind>/<id> names the party, which must be registered, and the
// certificate must be neither on the party's deny-list nor revoked by the current CRLs.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "core/parties.h"
#include "server/peer_certificate.h"
#include "server/revocation_list.h"

namespace infoflyt {

// Refusal reasons beyond the certificate's own (peer_certificate.h, revocation_list.h).
inline constexpr const char* kReasonNoCertificate = "no client certificate";
inline constexpr const char* kReasonNoSpiffeId = "no SPIFFE ID";
inline constexpr const char* kReasonTrustDomain = "trust domain";
inline constexpr const char* kReasonMalformedId = "malformed SPIFFE ID";
inline constexpr const char* kReasonNotRegistered = "party not registered";
inline constexpr const char* kReasonDenied = "denied fingerprint";

struct Caller {
  Party party;
  PeerCertificate certificate;
};

class PeerAuthenticator {
 public:
  // `require_fresh_crl`: refuse a certificate whose CA has no current CRL (tls.require_fresh_crl).
  // `issuers`: if not empty, the only issuers (RFC 2253) that may name parties of the trust
  // domain (tls.trust_domain_issuers).
  PeerAuthenticator(std::string trust_domain, bool require_fresh_crl,
                    std::vector<std::string> issuers = {})
      : trust_domain_(std::move(trust_domain)),
        spiffe_prefix_("spiffe://" + trust_domain_ + "/"),
        require_fresh_crl_(require_fresh_crl),
        issuers_(std::move(issuers)) {}

  // The CRLs calls are checked against from now on; none until the first call.
  void SetRevocations(std::shared_ptr<const RevocationList> revocations);

  // Identifies the caller from the client certificate `pem` its transport verified (and the chain
  // it came with, `chain_pem`, which may be empty). UNAUTHENTICATED without a certificate or SPIFFE
  // ID, for one ParseClientCertificate refuses, a denied or revoked one; PERMISSION_DENIED for
  // another trust domain, a malformed path or a party not in `parties`. On refusal `reason` is its
  // kReason constant, and `out->certificate` is set if the certificate could be parsed (for the
  // security event).
  Status IdentifyPem(const std::string& pem, const std::string& chain_pem,
                     const PartyRegistry& parties, Caller* out, std::string* reason);

  // Whether `caller`, identified earlier, is still trusted: still registered in `parties`, its
  // certificate not denied nor revoked. For open streams after a reload or a CRL change.
  Status Recheck(const Caller& caller, const PartyRegistry& parties, std::string* reason) const;

 private:
  // The deny-list of `party` and `revocations` (the CRLs, if any).
  Status CheckNotRevoked(const PeerCertificate& cert, const Party& party,
                         const RevocationList* revocations, std::string* reason) const;
  // The registered party the certificate's SPIFFE ID names.
  Status FindParty(const PeerCertificate& cert, const PartyRegistry& parties, const Party** party,
                   std::string* reason) const;

  const std::string trust_domain_;
  const std::string spiffe_prefix_;  // "spiffe://<trust domain>/"
  const bool require_fresh_crl_;
  const std::vector<std::string> issuers_;
  mutable std::mutex mu_;
  // Certificates seen recently, so the X.509 parse happens once per certificate, not per call.
  std::unordered_map<std::string, PeerCertificate> cache_;
  std::shared_ptr<const RevocationList> revocations_;
};

}  // namespace infoflyt
