#include "ops/listener_probe.h"

#include <netdb.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "base/host_port.h"
#include "base/openssl_ptr.h"

namespace infoflyt {
namespace {

using Clock = std::chrono::steady_clock;
using SslCtxPtr = std::unique_ptr<SSL_CTX, OpenSslFree<SSL_CTX, SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, OpenSslFree<SSL, SSL_free>>;
struct FreeAddrInfo {
  void operator()(addrinfo* p) const { freeaddrinfo(p); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, FreeAddrInfo>;

// Closes the descriptor on every path.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Waits for `events` on `fd` until `deadline`.
bool WaitFor(int fd, decltype(pollfd::events) events, Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd, events, 0};
  return poll(&p, 1, static_cast<int>(left.count())) == 1 && (p.revents & events) != 0;
}

// The ClientHello OpenSSL would send first, as bytes.
Status MakeClientHello(std::string* hello) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return {Code::kInternal, "probe: cannot make a TLS context"};
  SslPtr ssl(SSL_new(ctx.get()));
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl.get(), in, out);  // The SSL owns both now.
  SSL_connect(ssl.get());           // Wants to read the ServerHello: the hello is in `out`.
  char* data = nullptr;
  const auto len = BIO_get_mem_data(out, &data);
  if (len <= 0) return {Code::kInternal, "probe: OpenSSL made no ClientHello"};
  hello->assign(data, static_cast<size_t>(len));
  return Status::Ok();
}

}  // namespace

Status ProbeTlsListener(const std::string& address, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  HostPort parsed;
  if (Status s = ParseHostPort(address, "probe address", &parsed); !s.ok()) return s;
  std::string& host = parsed.host;
  // A wildcard listener is reached on loopback.
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  const std::string port = std::to_string(parsed.port);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    return {Code::kUnavailable, "cannot resolve " + address};
  }
  AddrInfoPtr info(found);
  Fd fd(socket(info->ai_family, info->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return {Code::kUnavailable, std::string("socket: ") + std::strerror(errno)};
  if (connect(fd.get(), info->ai_addr, info->ai_addrlen) != 0 && errno != EINPROGRESS) {
    return {Code::kUnavailable, std::string("connect: ") + std::strerror(errno)};
  }
  int error = 0;
  socklen_t error_len = sizeof error;
  if (!WaitFor(fd.get(), POLLOUT, deadline) ||
      getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &error_len) != 0 || error != 0) {
    return {Code::kUnavailable,
            "connect: " + std::string(error != 0 ? std::strerror(error) : "timed out")};
  }
  std::string hello;
  if (Status s = MakeClientHello(&hello); !s.ok()) return s;
  if (send(fd.get(), hello.data(), hello.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(hello.size())) {
    return {Code::kUnavailable, std::string("sending the ClientHello: ") + std::strerror(errno)};
  }
  if (!WaitFor(fd.get(), POLLIN, deadline)) {
    return {Code::kUnavailable, "no TLS answer within " + std::to_string(timeout.count()) +
                                    " ms (connected, but nothing accepted the connection)"};
  }
  unsigned char first = 0;
  // 22: a TLS handshake record, the ServerHello.
  if (recv(fd.get(), &first, 1, 0) != 1 || first != 22) {
    return {Code::kUnavailable, "the port answered, but not with a TLS handshake"};
  }
  return Status::Ok();
}

}  // namespace infoflyt
