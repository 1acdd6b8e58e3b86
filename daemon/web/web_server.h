// The browser interface's port: HTTPS with mutual TLS (the gRPC port's server certificate and
// client CA; a browser without a client certificate gets no page), served by cpp-httplib on a
// pool of its own threads. Every request is identified as a party by the same PeerAuthenticator
// and refused the same way as a gRPC call (a security event; for a registered party of the wrong
// kind, a "deny" record). Pages are in web/*_pages.h; this file only carries them.
//
// Safe by construction: every response has a strict Content-Security-Policy (scripts and styles
// only from /assets/, nothing inline, no other origin), no caching of anything but /assets/,
// a cross-site POST is refused (Sec-Fetch-Site, else Origin), and the access log carries the
// method, path and status only (paths hold no identity numbers: searches by one are POSTed).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "base/status.h"
#include "server/authorize.h"
#include "server/client_chain_verifier.h"
#include "server/service_context.h"
#include "web/web_request.h"

namespace httplib {
class SSLServer;
}  // namespace httplib

namespace infoflyt {

struct WebOptions {
  std::string listen;  // "host:port"; port 0 picks one.
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // Its CA names go in the certificate request (browsers' choice).
  // The gRPC port's handshake verifier: the same bundle and CRLs, as they are reloaded, and each
  // refusal a security event naming the certificate. Without one, OpenSSL checks against
  // client_ca_file as read at start (no CRLs).
  std::shared_ptr<const ClientChainVerifier> verifier;
  int threads = 32;  // Each open live page (Server-Sent Events) holds one.
};

class WebServer {
 public:
  WebServer(const ServiceContext* ctx, WebOptions options);
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  // Binds and starts serving on a thread of its own (the TLS files are loaded when constructed;
  // FAILED_PRECONDITION if they did not load).
  Status Start();
  std::string bound_address() const { return bound_; }
  // Stops accepting, ends live pages and joins; idempotent.
  void Stop();

  // Adds a page: `route` is a regex over the path (captures in WebRequest::matches), `rpc` names
  // it in security events and deny records (e.g. "Web/Inbox"), and only parties of the `allowed`
  // kinds reach `handler`.
  void Route(WebMethod method, const std::string& route, std::string rpc,
             std::vector<PartyKind> allowed, WebHandler handler);

  // Whether the server is stopping: live pages end.
  bool stopping() const { return stopping_.load(); }

 private:
  const ServiceContext* const ctx_;
  const WebOptions options_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  std::string bound_;
  std::atomic<bool> stopping_{false};
};

}  // namespace infoflyt
