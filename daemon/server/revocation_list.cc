#include "server/revocation_list.h"

#include <openssl/pem.h>

#include <memory>

#include "base/openssl_ptr.h"
#include "base/x509_text.h"

namespace infoflyt {
namespace {

std::vector<X509Ptr> ReadCertificates(const std::string& pem) {
  BioPtr bio = MemoryBio(pem);
  std::vector<X509Ptr> certs;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert);
  }
  return certs;
}

// False if a CA of `cas` has the CRL's issuer as subject but did not sign it. A CRL of a CA
// outside the bundle (an intermediate, whose certificate clients send) cannot be checked here;
// it is used, since it can only refuse, and OpenSSL verifies it at the handshake.
bool NotForged(X509_CRL* crl, const std::vector<X509Ptr>& cas) {
  bool issuer_known = false;
  for (const X509Ptr& ca : cas) {
    if (X509_NAME_cmp(X509_get_subject_name(ca.get()), X509_CRL_get_issuer(crl)) != 0) continue;
    issuer_known = true;
    if (X509_CRL_verify(crl, X509_get0_pubkey(ca.get())) == 1) return true;
  }
  return !issuer_known;
}

}  // namespace

RevocationList RevocationList::Parse(const std::vector<File>& files, const std::string& ca_bundle,
                                     std::vector<Ignored>* ignored) {
  const std::vector<X509Ptr> cas = ReadCertificates(ca_bundle);
  RevocationList list;
  for (const auto& [name, pem] : files) {
    BioPtr bio = MemoryBio(pem);
    int read = 0;
    while (X509CrlPtr crl{PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)}) {
      ++read;
      if (!NotForged(crl.get(), cas)) {
        ignored->push_back({name, "a CRL its issuer did not sign", true});
        continue;
      }
      Crl& c = list.crls_.emplace_back();
      c.file = name;
      c.issuer = NameText(X509_CRL_get_issuer(crl.get()));
      c.next_update = UnixTime(X509_CRL_get0_nextUpdate(crl.get())).value_or(0);
      STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get());
      for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
        c.serials.insert(
            SerialHex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i))));
      }
    }
    if (read == 0) ignored->push_back({name, "no PEM CRL", false});
  }
  return list;
}

Status RevocationList::Check(const PeerCertificate& cert, int64_t now, bool require_fresh,
                             std::string* reason) const {
  bool fresh = false;
  for (const Crl& crl : crls_) {
    for (const auto& [issuer, serial] : cert.chain) {
      if (crl.issuer == issuer && crl.serials.contains(serial)) {
        *reason = kReasonRevoked;
        return {Code::kUnauthenticated,
                "a CA certificate of the client's chain is revoked (CRL " + crl.file + ")"};
      }
    }
    if (crl.issuer != cert.issuer) continue;
    if (crl.serials.contains(cert.serial)) {
      *reason = kReasonRevoked;
      return {Code::kUnauthenticated, "client certificate is revoked (CRL " + crl.file + ")"};
    }
    fresh = fresh || crl.next_update == 0 || crl.next_update > now;
  }
  if (require_fresh && !fresh) {
    *reason = kReasonStaleCrl;
    return {Code::kUnauthenticated, "no current CRL of the client certificate's CA (" +
                                        cert.issuer + "); tls.require_fresh_crl refuses it"};
  }
  return Status::Ok();
}

std::vector<const RevocationList::Crl*> RevocationList::Stale(int64_t now) const {
  std::vector<const Crl*> stale;
  for (const Crl& crl : crls_) {
    if (crl.next_update != 0 && crl.next_update <= now) stale.push_back(&crl);
  }
  return stale;
}

}  // namespace infoflyt
