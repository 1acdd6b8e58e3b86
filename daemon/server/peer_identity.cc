#include "server/peer_identity.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "base/crypto.h"
#include "base/openssl_ptr.h"

namespace infoflyt {
namespace {

constexpr size_t kMaxCachedCertificates = 4096;

std::string SubjectOf(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const auto len = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<size_t>(len)};
}

X509Ptr ReadPem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// What a party's certificate must be beyond chaining to the CA, which OpenSSL's checks at the
// handshake leave open: an end entity (a CA certificate could mint parties of its own), meant
// for TLS clients (a certificate without any extended key usage passes OpenSSL's purpose
// check), and naming exactly one identity.
Status CheckClientProfile(X509* cert) {
  const uint32_t flags = X509_get_extension_flags(cert);
  if ((flags & EXFLAG_CA) != 0) {
    return {Code::kUnauthenticated,
            "client certificate is a CA certificate (basicConstraints CA:TRUE)"};
  }
  if ((flags & EXFLAG_XKUSAGE) == 0 || (X509_get_extended_key_usage(cert) & XKU_SSL_CLIENT) == 0) {
    return {Code::kUnauthenticated, "client certificate lacks the clientAuth extended key usage"};
  }
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  int uris = 0;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    uris += sk_GENERAL_NAME_value(names.get(), i)->type == GEN_URI;
  }
  if (uris != 1) {
    return {Code::kUnauthenticated,
            "client certificate must have exactly one URI SAN, not " + std::to_string(uris)};
  }
  return Status::Ok();
}

}  // namespace

Status ParseClientCertificate(const std::string& pem, PeerCertificate* out) {
  X509Ptr cert = ReadPem(pem);
  if (!cert) return {Code::kUnauthenticated, "client certificate cannot be parsed"};
  if (Status s = CheckClientProfile(cert.get()); !s.ok()) return s;
  return ParsePeerCertificate(pem, out);
}

Status ParsePeerCertificate(const std::string& pem, PeerCertificate* out) {
  X509Ptr cert = ReadPem(pem);
  if (!cert) return {Code::kUnauthenticated, "client certificate cannot be parsed"};
  PeerCertificate result;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                      ASN1_STRING_length(uri));
    if (!value.starts_with("spiffe://")) continue;
    if (!result.spiffe_id.empty()) {
      return {Code::kUnauthenticated, "client certificate has more than one SPIFFE ID"};
    }
    result.spiffe_id = std::move(value);
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  X509_digest(cert.get(), EVP_sha256(), md, &md_len);
  result.fingerprint = ToHex({reinterpret_cast<char*>(md), md_len});
  result.subject = SubjectOf(cert.get());
  *out = std::move(result);
  return Status::Ok();
}

Status PeerAuthenticator::Identify(const grpc::AuthContext& auth, const PartyRegistry& parties,
                                   Caller* out) {
  const auto pems = auth.FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (!auth.IsPeerAuthenticated() || pems.empty()) {
    return {Code::kUnauthenticated, "a client certificate is required"};
  }
  const std::string pem(pems.front().data(), pems.front().size());
  PeerCertificate cert;
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(pem); it != cache_.end()) cert = it->second;
  }
  if (cert.fingerprint.empty()) {
    if (Status s = ParseClientCertificate(pem, &cert); !s.ok()) return s;
    std::lock_guard lock(mu_);
    if (cache_.size() >= kMaxCachedCertificates) cache_.clear();
    cache_.emplace(pem, cert);
  }
  if (cert.spiffe_id.empty()) {
    return {Code::kUnauthenticated, "client certificate has no spiffe:// URI SAN"};
  }
  const std::string prefix = "spiffe://" + trust_domain_ + "/";
  if (!cert.spiffe_id.starts_with(prefix)) {
    return {Code::kPermissionDenied,
            "SPIFFE ID " + cert.spiffe_id + " is not in trust domain " + trust_domain_};
  }
  const std::string path = cert.spiffe_id.substr(prefix.size());
  const size_t slash = path.find('/');
  const auto kind =
      slash == std::string::npos ? std::nullopt : ParsePartyKind(path.substr(0, slash));
  if (!kind) {
    return {Code::kPermissionDenied,
            "SPIFFE ID " + cert.spiffe_id + " is not spiffe://<trust-domain>/<kind>/<id>"};
  }
  const Party* party = parties.Find(*kind, path.substr(slash + 1));
  if (party == nullptr) {
    return {Code::kPermissionDenied, "party " + path + " is not registered"};
  }
  out->party = *party;
  out->certificate = std::move(cert);
  return Status::Ok();
}

}  // namespace infoflyt
