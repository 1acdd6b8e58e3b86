#include "base/x509_text.h"

#include <openssl/bn.h>

#include <ctime>
#include <memory>

#include "base/openssl_ptr.h"

namespace infoflyt {
namespace {

void FreeOpenSslString(char* p) { OPENSSL_free(p); }

}  // namespace

std::string NameText(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const auto len = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<size_t>(len)};
}

std::string SerialHex(const ASN1_INTEGER* serial) {
  std::unique_ptr<BIGNUM, OpenSslFree<BIGNUM, BN_free>> bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return "";
  std::unique_ptr<char, OpenSslFree<char, FreeOpenSslString>> hex(BN_bn2hex(bn.get()));
  return hex ? hex.get() : "";
}

std::optional<int64_t> UnixTime(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace infoflyt
