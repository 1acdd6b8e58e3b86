#include "server/client_chain_verifier.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include <filesystem>
#include <utility>

#include "base/files.h"
#include "base/openssl_ptr.h"
#include "server/peer_certificate.h"
#include "server/revocation_list.h"

namespace infoflyt {

struct ClientChainVerifier::Trust {
  X509StorePtr store{X509_STORE_new()};
};

namespace {

// A CA without a CRL is not checked for revocation, as gRPC's own verification has it.
int IgnoreMissingCrl(int ok, X509_STORE_CTX* ctx) {
  return ok != 0 || X509_STORE_CTX_get_error(ctx) == X509_V_ERR_UNABLE_TO_GET_CRL ? 1 : 0;
}

// Also past its nextUpdate: OpenSSL then goes on to check the certificate against that CRL, so
// its revocations still apply while its CA's other clients are served.
int IgnoreMissingOrStaleCrl(int ok, X509_STORE_CTX* ctx) {
  return IgnoreMissingCrl(ok, ctx) != 0 ||
                 X509_STORE_CTX_get_error(ctx) == X509_V_ERR_CRL_HAS_EXPIRED
             ? 1
             : 0;
}

const char* ReasonOfVerifyError(int code) {
  switch (code) {
    case X509_V_ERR_CERT_REVOKED:
      return kReasonRevoked;
    case X509_V_ERR_CRL_HAS_EXPIRED:
      return kReasonStaleCrl;
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return "expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "not yet valid";
    case X509_V_ERR_INVALID_PURPOSE:
      return kReasonNoClientAuth;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return "unknown CA";
    default:
      return "certificate verify failed";
  }
}

// Adds every CRL in the files of `directory` to `store`; how many.
Status AddCrls(const std::string& directory, X509_STORE* store, int* added) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    std::string pem;
    if (Status s = ReadFile(entry.path().string(), &pem); !s.ok()) return s;
    BioPtr bio = MemoryBio(pem);
    while (X509CrlPtr crl{PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)}) {
      X509_STORE_add_crl(store, crl.get());  // Takes its own reference.
      ++*added;
    }
  }
  ERR_clear_error();  // The end of each file reads as an error.
  if (error) {
    return {Code::kFailedPrecondition, "cannot list " + directory + ": " + error.message()};
  }
  return Status::Ok();
}

class GrpcVerifier final : public grpc::experimental::ExternalCertificateVerifier {
 public:
  explicit GrpcVerifier(std::shared_ptr<const ClientChainVerifier> verifier)
      : verifier_(std::move(verifier)) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> /*callback*/, grpc::Status* sync_status) override {
    const Status s =
        verifier_->Verify(std::string(request->peer_cert().data(), request->peer_cert().size()),
                          std::string(request->peer_cert_full_chain().data(),
                                      request->peer_cert_full_chain().size()));
    *sync_status =
        s.ok() ? grpc::Status::OK : grpc::Status(grpc::StatusCode::UNAUTHENTICATED, s.message());
    return true;  // Answered synchronously.
  }
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest* /*request*/) override {}

 private:
  const std::shared_ptr<const ClientChainVerifier> verifier_;
};

}  // namespace

Status ClientChainVerifier::Load(const std::string& ca_bundle, const std::string& crl_directory) {
  std::string pem;
  if (Status s = ReadFile(ca_bundle, &pem); !s.ok()) return s;
  auto trust = std::make_shared<Trust>();
  X509_STORE* store = trust->store.get();
  int cas = 0;
  BioPtr bio = MemoryBio(pem);
  while (X509Ptr ca{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    X509_STORE_add_cert(store, ca.get());  // Takes its own reference; a duplicate is ignored.
    ++cas;
  }
  ERR_clear_error();
  if (cas == 0) return {Code::kFailedPrecondition, ca_bundle + " holds no CA certificate"};
  int crls = 0;
  if (!crl_directory.empty()) {
    if (Status s = AddCrls(crl_directory, store, &crls); !s.ok()) return s;
  }
  if (crls > 0) X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  X509_STORE_set_purpose(store, X509_PURPOSE_SSL_CLIENT);
  X509_STORE_set_verify_cb(store, require_fresh_crl_ ? IgnoreMissingCrl : IgnoreMissingOrStaleCrl);
  std::lock_guard lock(mu_);
  trust_ = std::move(trust);
  return Status::Ok();
}

Status ClientChainVerifier::Verify(const std::string& leaf_pem,
                                   const std::string& chain_pem) const {
  std::shared_ptr<const Trust> trust;
  {
    std::lock_guard lock(mu_);
    trust = trust_;
  }
  SecurityEvent event;
  event.rpc = "(TLS handshake)";  // gRPC does not say the peer's address here.
  X509Ptr leaf(PEM_read_bio_X509(MemoryBio(leaf_pem).get(), nullptr, nullptr, nullptr));
  X509StackPtr untrusted(sk_X509_new_null());
  BioPtr chain = MemoryBio(chain_pem);
  while (X509Ptr c{PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr)}) {
    if (leaf && X509_cmp(c.get(), leaf.get()) == 0) continue;
    if (sk_X509_push(untrusted.get(), c.get()) > 0) {
      X509* owned_by_the_stack = c.release();
      (void)owned_by_the_stack;
    }
  }
  ERR_clear_error();
  int code = X509_V_ERR_UNSPECIFIED;
  if (!leaf) {
    event.reason = kReasonUnparsable;
    event.detail = "the client certificate cannot be parsed";
  } else if (!trust) {
    event.reason = "unknown CA";
    event.detail = "no client CA bundle is loaded";
  } else {
    X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (ctx && X509_STORE_CTX_init(ctx.get(), trust->store.get(), leaf.get(), untrusted.get()) &&
        X509_verify_cert(ctx.get()) == 1) {
      // Refused here too, not only by the daemon's services, so that no call (health,
      // reflection) is served over such a certificate.
      Status profile = CheckClientProfile(leaf.get(), &event.reason);
      if (profile.ok()) return profile;
      event.detail = profile.message();
    } else {
      if (ctx) code = X509_STORE_CTX_get_error(ctx.get());
      ERR_clear_error();
      event.reason = ReasonOfVerifyError(code);
      event.detail = X509_verify_cert_error_string(code);
    }
  }
  // Only a refusal describes the certificate (a handshake that passes needs none of it).
  ParsePeerCertificate(leaf_pem, &event.certificate);
  events_->Report(event);
  return {Code::kUnauthenticated, event.reason + ": " + event.detail};
}

std::shared_ptr<grpc::experimental::CertificateVerifier> ClientChainVerifier::ForGrpc(
    std::shared_ptr<const ClientChainVerifier> verifier) {
  return grpc::experimental::ExternalCertificateVerifier::Create<GrpcVerifier>(std::move(verifier));
}

}  // namespace infoflyt
