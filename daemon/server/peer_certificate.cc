#include "server/peer_certificate.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base/crypto.h"
#include "base/openssl_ptr.h"
#include "base/x509_text.h"

namespace infoflyt {
namespace {

// SHA-256 of the DER certificate, hex.
std::string Fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  X509_digest(cert, EVP_sha256(), md, &md_len);
  return ToHex({reinterpret_cast<char*>(md), md_len});
}

X509Ptr ReadPem(const std::string& pem) {
  BioPtr bio = MemoryBio(pem);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// Fills `out` from `cert`; false if it names more than one SPIFFE ID (then spiffe_id is empty,
// the rest is set: enough for a security event, not for a party).
bool Describe(X509* cert, PeerCertificate* out) {
  PeerCertificate result;
  result.fingerprint = Fingerprint(cert);
  result.subject = NameText(X509_get_subject_name(cert));
  result.issuer = NameText(X509_get_issuer_name(cert));
  result.serial = SerialHex(X509_get0_serialNumber(cert));
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  int spiffe_ids = 0;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                      ASN1_STRING_length(uri));
    if (!value.starts_with("spiffe://")) continue;
    ++spiffe_ids;
    result.spiffe_id = std::move(value);
  }
  if (spiffe_ids > 1) result.spiffe_id.clear();
  *out = std::move(result);
  return spiffe_ids <= 1;
}

}  // namespace

// What a party's certificate must be beyond chaining to the CA, which OpenSSL's checks at the
// handshake leave open: an end entity (a CA certificate could mint parties of its own), meant
// for TLS clients (a certificate without any extended key usage passes OpenSSL's purpose
// check), and naming exactly one identity.
Status CheckClientProfile(X509* cert, std::string* reason) {
  const uint32_t flags = X509_get_extension_flags(cert);
  if ((flags & EXFLAG_CA) != 0) {
    *reason = kReasonCaAsClient;
    return {Code::kUnauthenticated,
            "client certificate is a CA certificate (basicConstraints CA:TRUE)"};
  }
  if ((flags & EXFLAG_XKUSAGE) == 0 || (X509_get_extended_key_usage(cert) & XKU_SSL_CLIENT) == 0) {
    *reason = kReasonNoClientAuth;
    return {Code::kUnauthenticated, "client certificate lacks the clientAuth extended key usage"};
  }
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  int uris = 0;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    uris += sk_GENERAL_NAME_value(names.get(), i)->type == GEN_URI;
  }
  if (uris != 1) {
    *reason = kReasonUriSans;
    return {Code::kUnauthenticated,
            "client certificate must have exactly one URI SAN, not " + std::to_string(uris)};
  }
  return Status::Ok();
}

Status ParseClientCertificate(const std::string& pem, PeerCertificate* out, std::string* reason) {
  X509Ptr cert = ReadPem(pem);
  if (!cert) {
    *reason = kReasonUnparsable;
    return {Code::kUnauthenticated, "client certificate cannot be parsed"};
  }
  Describe(cert.get(), out);
  // Exactly one URI SAN: at most one SPIFFE ID.
  return CheckClientProfile(cert.get(), reason);
}

Status ParsePeerCertificate(const std::string& pem, PeerCertificate* out) {
  X509Ptr cert = ReadPem(pem);
  if (!cert) return {Code::kUnauthenticated, "client certificate cannot be parsed"};
  if (!Describe(cert.get(), out)) {
    return {Code::kUnauthenticated, "client certificate has more than one SPIFFE ID"};
  }
  return Status::Ok();
}

void ParsePeerChain(const std::string& chain_pem, PeerCertificate* cert) {
  BioPtr bio = MemoryBio(chain_pem);
  cert->chain.clear();
  while (X509Ptr c{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    // Whether the chain holds the peer's own certificate differs between client and server
    // side (OpenSSL's SSL_get_peer_cert_chain): left out by its fingerprint.
    if (Fingerprint(c.get()) == cert->fingerprint) continue;
    cert->chain.emplace_back(NameText(X509_get_issuer_name(c.get())),
                             SerialHex(X509_get0_serialNumber(c.get())));
  }
}

}  // namespace infoflyt
