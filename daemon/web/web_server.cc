#include "web/web_server.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <future>

#include "base/host_port.h"
#include "base/log.h"
#include "base/openssl_ptr.h"
#include "web/assets.h"
#include "web/await.h"
#include "web/page.h"

namespace infoflyt {
namespace {

constexpr const char* kReasonCrossSite = "cross-site request";

// Scripts, styles and images from this origin's /assets/ only; no inline script or style, no
// framing, forms post only here.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

std::string Pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return {};
  char* data = nullptr;
  const int64_t size = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<size_t>(size)};
}

// OpenSSL's chain check, replaced by the gRPC port's verifier (`arg`), so both ports trust and
// revoke alike and a refused handshake is reported with its certificate.
int VerifyChain(X509_STORE_CTX* store, void* arg) {
  const auto* verifier = static_cast<const ClientChainVerifier*>(arg);
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  if (leaf == nullptr) return 0;
  std::string chain;
  if (STACK_OF(X509)* sent = X509_STORE_CTX_get0_untrusted(store)) {
    for (int i = 0; i < sk_X509_num(sent); ++i) chain += Pem(sk_X509_value(sent, i));
  }
  if (!verifier->Verify(Pem(leaf), chain).ok()) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  X509_STORE_CTX_set_error(store, X509_V_OK);
  return 1;
}

// The client certificate the handshake verified, and the chain it came with.
CallPeer PeerOf(const httplib::Request& request) {
  CallPeer peer;
  peer.address = "web:" + request.remote_addr + ":" + std::to_string(request.remote_port);
  if (request.ssl == nullptr) return peer;
  auto* ssl = const_cast<SSL*>(request.ssl);  // OpenSSL's getters take a non-const SSL.
  if (SSL_get_verify_result(ssl) != X509_V_OK) return peer;
  if (X509* cert = SSL_get0_peer_certificate(ssl)) peer.pem = Pem(cert);
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
    for (int i = 0; i < sk_X509_num(chain); ++i) peer.chain_pem += Pem(sk_X509_value(chain, i));
  }
  return peer;
}

// A client certificate is sent with any request, so another site could otherwise act in the
// user's name (post, acknowledge), or make the browser fetch pages (marking a delivery received,
// holding live streams, leaving refusals in the user's name). A state-changing request must come
// from a page of this origin (Sec-Fetch-Site; from older browsers, Origin); a GET from elsewhere
// only as the user's own top-level navigation (a link followed), never a subresource or fetch.
bool SameOrigin(const httplib::Request& request) {
  const std::string site = request.get_header_value("Sec-Fetch-Site");
  if (!site.empty()) return site == "same-origin" || site == "none";
  const std::string origin = request.get_header_value("Origin");
  return !origin.empty() && origin == "https://" + request.get_header_value("Host");
}

bool AllowedFromHere(const httplib::Request& request, WebMethod method) {
  if (method == WebMethod::kPost) return SameOrigin(request);
  const std::string site = request.get_header_value("Sec-Fetch-Site");
  if (site.empty() || site == "same-origin" || site == "none") return true;
  return request.get_header_value("Sec-Fetch-Mode") == "navigate" &&
         request.get_header_value("Sec-Fetch-Dest") == "document";
}

// The path as the access log may show it: a run of 11 digits (a pasted identity number) is
// masked, whatever route it came in by.
std::string LoggedPath(const std::string& path) {
  std::string out = path;
  size_t run = 0;
  for (size_t i = 0; i <= out.size(); ++i) {
    if (i < out.size() && out[i] >= '0' && out[i] <= '9') {
      ++run;
      continue;
    }
    if (run >= 11) out.replace(i - run, run, std::string(run, '#'));
    run = 0;
  }
  return out;
}

}  // namespace

WebServer::WebServer(const ServiceContext* ctx, WebOptions options)
    : ctx_(ctx), options_(std::move(options)) {
  const WebOptions& o = options_;
  server_ = std::make_unique<httplib::SSLServer>([&o](SSL_CTX& tls) {
    SSL_CTX_set_min_proto_version(&tls, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(&tls, o.cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(&tls, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(&tls) != 1 ||
        SSL_CTX_load_verify_locations(&tls, o.client_ca_file.c_str(), nullptr) != 1) {
      return false;
    }
    // The CA names go in the certificate request, so a browser offers only matching
    // certificates; without one the handshake fails and no page is served.
    SSL_CTX_set_client_CA_list(&tls, SSL_load_client_CA_file(o.client_ca_file.c_str()));
    SSL_CTX_set_verify(&tls, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    if (o.verifier) {
      // Not const in OpenSSL's signature; VerifyChain only reads it.
      SSL_CTX_set_cert_verify_callback(&tls, VerifyChain,
                                       const_cast<ClientChainVerifier*>(o.verifier.get()));
    }
    // A browser resumes sessions on its parallel connections; with client certificates OpenSSL
    // refuses that unless the sessions have a context. A resumed session keeps its verified
    // certificate, and every request is still checked against the current CRLs and registry.
    static constexpr unsigned char kSessionContext[] = "infoflyt-web";
    SSL_CTX_set_session_id_context(&tls, kSessionContext, sizeof kSessionContext - 1);
    // No session tickets (a resumed TLS 1.3 session would come without the peer's chain) and
    // cached sessions for 5 minutes at most; TLS 1.2 only with AEAD suites, as the gRPC port.
    SSL_CTX_set_num_tickets(&tls, 0);
    SSL_CTX_set_options(&tls, SSL_OP_NO_TICKET);
    SSL_CTX_set_timeout(&tls, 300);
    return SSL_CTX_set_cipher_list(&tls, "ECDHE+AESGCM:ECDHE+CHACHA20") == 1;
  });
}

WebServer::~WebServer() { Stop(); }

Status WebServer::Start() {
  HostPort address;
  if (Status s = ParseHostPort(options_.listen, "web.listen", &address); !s.ok()) return s;
  if (!server_->is_valid()) {
    return {Code::kFailedPrecondition, "web: cannot load " + options_.cert_file + ", " +
                                           options_.key_file + " or " + options_.client_ca_file};
  }
  const int threads = options_.threads;
  // httplib owns the queue it is handed and frees it when it stops listening.
  server_->new_task_queue = [threads] {
    return new httplib::ThreadPool(threads);  // NOLINT(cppcoreguidelines-owning-memory)
  };
  server_->set_keep_alive_timeout(30);
  server_->set_read_timeout(10);
  server_->set_payload_max_length(size_t{64} * 1024);
  server_->set_post_routing_handler([](const httplib::Request& request, httplib::Response& r) {
    r.set_header("Content-Security-Policy", kContentSecurityPolicy);
    r.set_header("X-Content-Type-Options", "nosniff");
    r.set_header("Referrer-Policy", "no-referrer");
    r.set_header("Strict-Transport-Security", "max-age=31536000");
    r.set_header("Cross-Origin-Opener-Policy", "same-origin");
    r.set_header("Cross-Origin-Resource-Policy", "same-origin");
    // Pages may hold personal data: never cached. Assets are the same for everyone.
    if (!request.path.starts_with("/assets/")) r.set_header("Cache-Control", "no-store");
  });
  // Method, path and status only: paths hold delivery and record numbers, never identity
  // numbers, and query strings are not logged.
  server_->set_logger([](const httplib::Request& request, const httplib::Response& r) {
    LogInfo("event=web_request method=" + request.method + " path=" + LoggedPath(request.path) +
            " status=" + std::to_string(r.status));
  });
  server_->set_error_handler([](const httplib::Request&, httplib::Response& r) {
    if (r.body.empty()) SetErrorPage(r.status, "", &r);
  });
  server_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& r, const std::exception_ptr&) {
        SetErrorPage(500, "Noe gikk galt. / Something went wrong.", &r);
      });
  server_->Get("/assets/(.+)", [](const httplib::Request& request, httplib::Response& r) {
    const WebAsset* asset = FindAsset(request.matches[1].str());
    if (asset == nullptr) {
      r.status = 404;
      return;
    }
    r.set_content(asset->content.data(), asset->content.size(), std::string(asset->content_type));
    r.set_header("Cache-Control", "max-age=300");
  });
  const int port = address.port == 0
                       ? server_->bind_to_any_port(address.host)
                       : (server_->bind_to_port(address.host, address.port) ? address.port : -1);
  if (port < 0) return {Code::kUnavailable, "web.listen: cannot bind " + options_.listen};
  bound_ = address.host + ":" + std::to_string(port);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return Status::Ok();
}

void WebServer::Route(WebMethod method, const std::string& route, std::string rpc,
                      std::vector<PartyKind> allowed, WebHandler handler) {
  auto serve = [this, rpc = std::move(rpc), allowed = std::move(allowed), method,
                handler = std::move(handler)](const httplib::Request& http, httplib::Response& r) {
    const CallPeer peer = PeerOf(http);
    if (!AllowedFromHere(http, method)) {
      ctx_->security->Report({.peer = peer.address,
                              .rpc = rpc,
                              .reason = kReasonCrossSite,
                              .certificate = {},
                              .detail = "a request from another site"});
      SetErrorPage(403, "Forespørselen kom fra et annet nettsted og er avvist.", &r);
      return;
    }
    const auto catalogs = ctx_->catalogs->Get();
    WebRequest request{http, {}, peer};
    bool allowed_through = false;
    // The refusal comes once a wrong-kind party's "deny" record is durable.
    const std::optional<Status> refused = Await<Status>([&](auto answer) {
      allowed_through = Authorize(*ctx_, peer, *catalogs, allowed, rpc, &request.caller, answer);
      if (allowed_through) answer(Status::Ok());
    });
    if (!allowed_through) {
      SetActErrorPage(refused, &r);
      return;
    }
    handler(request, r);
  };
  if (method == WebMethod::kGet) {
    server_->Get(route, std::move(serve));
  } else {
    server_->Post(route, std::move(serve));
  }
}

void WebServer::Stop() {
  if (stopping_.exchange(true)) return;
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace infoflyt
