#include "server/peer_identity.h"

#include <algorithm>

#include "base/clock.h"

namespace infoflyt {
namespace {

constexpr size_t kMaxCachedCertificates = 4096;

}  // namespace

void PeerAuthenticator::SetRevocations(std::shared_ptr<const RevocationList> revocations) {
  std::lock_guard lock(mu_);
  revocations_ = std::move(revocations);
}

Status PeerAuthenticator::IdentifyPem(const std::string& pem, const std::string& chain_pem,
                                      const PartyRegistry& parties, Caller* out,
                                      std::string* reason) {
  if (pem.empty()) {
    *reason = kReasonNoCertificate;
    return {Code::kUnauthenticated, "a client certificate is required"};
  }
  PeerCertificate& cert = out->certificate;
  bool cached = false;
  std::shared_ptr<const RevocationList> revocations;
  {
    std::lock_guard lock(mu_);
    revocations = revocations_;
    if (auto it = cache_.find(pem); it != cache_.end()) {
      cert = it->second;
      cached = true;
    }
  }
  if (!cached) {
    if (Status s = ParseClientCertificate(pem, &cert, reason); !s.ok()) return s;
    if (!chain_pem.empty()) ParsePeerChain(chain_pem, &cert);
    std::lock_guard lock(mu_);
    if (cache_.size() >= kMaxCachedCertificates) cache_.clear();
    cache_.emplace(pem, cert);
  }
  const Party* party = nullptr;
  if (Status s = FindParty(cert, parties, &party, reason); !s.ok()) return s;
  if (Status s = CheckNotRevoked(cert, *party, revocations.get(), reason); !s.ok()) return s;
  out->party = *party;
  return Status::Ok();
}

Status PeerAuthenticator::Recheck(const Caller& caller, const PartyRegistry& parties,
                                  std::string* reason) const {
  const Party* party = nullptr;
  if (Status s = FindParty(caller.certificate, parties, &party, reason); !s.ok()) return s;
  std::shared_ptr<const RevocationList> revocations;
  {
    std::lock_guard lock(mu_);
    revocations = revocations_;
  }
  return CheckNotRevoked(caller.certificate, *party, revocations.get(), reason);
}

Status PeerAuthenticator::FindParty(const PeerCertificate& cert, const PartyRegistry& parties,
                                    const Party** party, std::string* reason) const {
  if (cert.spiffe_id.empty()) {
    *reason = kReasonNoSpiffeId;
    return {Code::kUnauthenticated, "client certificate has no spiffe:// URI SAN"};
  }
  if (!cert.spiffe_id.starts_with(spiffe_prefix_)) {
    *reason = kReasonTrustDomain;
    return {Code::kPermissionDenied,
            "SPIFFE ID " + cert.spiffe_id + " is not in trust domain " + trust_domain_};
  }
  if (!issuers_.empty() &&
      std::find(issuers_.begin(), issuers_.end(), cert.issuer) == issuers_.end()) {
    *reason = kReasonTrustDomain;
    return {Code::kPermissionDenied, "CA " + cert.issuer +
                                         " may not issue certificates of trust "
                                         "domain " +
                                         trust_domain_ + " (tls.trust_domain_issuers)"};
  }
  const std::string path = cert.spiffe_id.substr(spiffe_prefix_.size());
  const size_t slash = path.find('/');
  const auto kind =
      slash == std::string::npos ? std::nullopt : ParsePartyKind(path.substr(0, slash));
  if (!kind) {
    *reason = kReasonMalformedId;
    return {Code::kPermissionDenied,
            "SPIFFE ID " + cert.spiffe_id + " is not spiffe://<trust-domain>/<kind>/<id>"};
  }
  *party = parties.Find(*kind, path.substr(slash + 1));
  if (*party == nullptr) {
    *reason = kReasonNotRegistered;
    return {Code::kPermissionDenied, "party " + path + " is not registered"};
  }
  return Status::Ok();
}

Status PeerAuthenticator::CheckNotRevoked(const PeerCertificate& cert, const Party& party,
                                          const RevocationList* revocations,
                                          std::string* reason) const {
  if (party.revoked_certificates.contains(cert.fingerprint)) {
    *reason = kReasonDenied;
    return {Code::kUnauthenticated, "client certificate " + cert.fingerprint +
                                        " is revoked in the parties registry (party " +
                                        party.Key() + ")"};
  }
  if (revocations == nullptr) return Status::Ok();
  return revocations->Check(cert, NowMicros() / kMicrosPerSecond, require_fresh_crl_, reason);
}

}  // namespace infoflyt
