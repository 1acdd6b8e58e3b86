#include "ops/tls_expiry.h"

#include <openssl/asn1.h>
#include <openssl/pem.h>

#include <filesystem>

#include "base/files.h"
#include "base/openssl_ptr.h"
#include "base/x509_text.h"

namespace infoflyt {
namespace {

void KeepSoonest(std::optional<int64_t> t, std::optional<int64_t>* soonest) {
  if (t && (!*soonest || *t < **soonest)) *soonest = t;
}

// The soonest time `read` finds in the PEM objects of `path`; `first_only` stops after one.
template <typename Ptr, typename Read, typename When>
std::optional<int64_t> Soonest(const std::string& path, Read read, When when, bool first_only) {
  std::string pem;
  if (!ReadFile(path, &pem).ok()) return std::nullopt;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::optional<int64_t> soonest;
  while (true) {
    Ptr object(read(bio.get(), nullptr, nullptr, nullptr));
    if (!object) break;
    KeepSoonest(UnixTime(when(object.get())), &soonest);
    if (first_only) break;
  }
  return soonest;
}

std::optional<int64_t> CertificatesExpire(const std::string& path, bool first_only) {
  return Soonest<X509Ptr>(path, PEM_read_bio_X509, X509_get0_notAfter, first_only);
}

}  // namespace

TlsExpiry ReadTlsExpiry(const std::string& server_cert, const std::string& client_ca,
                        const std::string& crl_directory) {
  TlsExpiry expiry;
  expiry.server_certificate = CertificatesExpire(server_cert, true);
  expiry.client_ca = CertificatesExpire(client_ca, false);
  std::error_code ec;
  if (!crl_directory.empty()) {
    for (const auto& entry : std::filesystem::directory_iterator(crl_directory, ec)) {
      if (!entry.is_regular_file()) continue;
      KeepSoonest(Soonest<X509CrlPtr>(entry.path().string(), PEM_read_bio_X509_CRL,
                                      X509_CRL_get0_nextUpdate, false),
                  &expiry.crl_next_update);
    }
  }
  return expiry;
}

}  // namespace infoflyt
