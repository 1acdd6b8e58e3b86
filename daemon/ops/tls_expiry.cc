#include "ops/tls_expiry.h"

#include <openssl/pem.h>

#include <algorithm>

#include "base/files.h"
#include "base/openssl_ptr.h"
#include "base/x509_text.h"

namespace infoflyt {
namespace {

// The soonest notAfter of the certificates in `path`; `first_only` reads just the first. Each
// certificate's, by subject, into `each` if given.
std::optional<int64_t> CertificatesExpire(const std::string& path, bool first_only,
                                          std::map<std::string, int64_t>* each = nullptr) {
  std::string pem;
  if (!ReadFile(path, &pem).ok()) return std::nullopt;
  BioPtr bio = MemoryBio(pem);
  std::optional<int64_t> soonest;
  while (X509Ptr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    const std::optional<int64_t> t = UnixTime(X509_get0_notAfter(cert.get()));
    if (t && (!soonest || *t < *soonest)) soonest = t;
    if (t && each != nullptr) {
      const auto [at, added] = each->emplace(NameText(X509_get_subject_name(cert.get())), *t);
      if (!added) at->second = std::min(at->second, *t);
    }
    if (first_only) break;
  }
  return soonest;
}

}  // namespace

TlsExpiry ReadTlsExpiry(const std::string& server_cert, const std::string& client_ca) {
  TlsExpiry expiry;
  expiry.server_certificate = CertificatesExpire(server_cert, true);
  expiry.client_ca = CertificatesExpire(client_ca, false, &expiry.client_cas);
  return expiry;
}

}  // namespace infoflyt
