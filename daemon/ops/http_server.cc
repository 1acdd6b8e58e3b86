#include "ops/http_server.h"

#include <asio/read_until.hpp>
#include <asio/strand.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>
#include <istream>

#include "base/host_port.h"

namespace infoflyt {
namespace {

constexpr size_t kMaxRequestBytes = 8192;
constexpr auto kReadTimeout = std::chrono::seconds(5);
// Scrapers and probes need a handful; more at once is a flood, turned away at once.
constexpr int kMaxConnections = 64;

const char* StatusLine(int code) {
  switch (code) {
    case 200:
      return "200 OK";
    case 404:
      return "404 Not Found";
    case 405:
      return "405 Method Not Allowed";
    default:
      return "503 Service Unavailable";
  }
}

// One request per connection; the response closes it.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::ip::tcp::socket socket, const HttpServer::Handler& handler,
             std::shared_ptr<std::atomic<int>> open)
      : open_(std::move(open)),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        buffer_(kMaxRequestBytes),
        handler_(handler) {}

  void Start() {
    timer_.expires_after(kReadTimeout);
    // Until the response is written: a client that sends or reads too slowly is cut off.
    timer_.async_wait([self = shared_from_this()](std::error_code ec) {
      std::error_code ignored;
      if (!ec) self->socket_.close(ignored);
    });
    asio::async_read_until(socket_, buffer_, "\r\n\r\n",
                           [self = shared_from_this()](std::error_code ec, size_t) {
                             if (!ec) self->Respond();
                           });
  }

 private:
  void Respond() {
    std::istream in(&buffer_);
    std::string method;
    std::string target;
    in >> method >> target;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body = "only GET\n";
    const int code = method == "GET" ? handler_(target, &content_type, &body) : 405;
    response_ = "HTTP/1.1 " + std::string(StatusLine(code)) + "\r\nContent-Type: " + content_type +
                "\r\nContent-Length: " + std::to_string(body.size()) +
                "\r\nConnection: close\r\n\r\n" + body;
    asio::async_write(socket_, asio::buffer(response_),
                      [self = shared_from_this()](std::error_code, size_t) {
                        self->timer_.cancel();
                        std::error_code ignored;
                        self->socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
                      });
  }

  // Counts this connection while it lives.
  struct Counted {
    explicit Counted(std::shared_ptr<std::atomic<int>> count) : n(std::move(count)) { ++*n; }
    ~Counted() { --*n; }
    Counted(const Counted&) = delete;
    Counted& operator=(const Counted&) = delete;
    std::shared_ptr<std::atomic<int>> n;
  };
  Counted open_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  asio::streambuf buffer_;
  const HttpServer::Handler& handler_;
  std::string response_;
};

}  // namespace

HttpServer::HttpServer(asio::io_context& io, Handler handler)
    : handler_(std::move(handler)), acceptor_(io), retry_(io) {}

Status HttpServer::Listen(const std::string& address) {
  HostPort parsed;
  if (Status s = ParseHostPort(address, "server.http_listen", &parsed); !s.ok()) return s;
  std::error_code ec;
  const auto ip = asio::ip::make_address(parsed.host, ec);
  if (ec) return {Code::kInvalidArgument, "server.http_listen: not an IP address: " + address};
  const asio::ip::tcp::endpoint endpoint(ip, parsed.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return {Code::kUnavailable, "http_listen " + address + ": " + ec.message()};
  Accept();
  return Status::Ok();
}

std::string HttpServer::bound_address() const {
  std::error_code ec;
  const auto endpoint = acceptor_.local_endpoint(ec);
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

void HttpServer::Close() {
  std::error_code ignored;
  retry_.cancel();
  acceptor_.close(ignored);
}

void HttpServer::Accept() {
  // Each connection on a strand of its own: its timer and its reads and writes never run at
  // once on the loop's two threads.
  acceptor_.async_accept(
      asio::make_strand(acceptor_.get_executor()),
      [this](std::error_code ec, asio::ip::tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;  // Closed.
        if (ec) {
          // Out of descriptors, say: try again shortly rather than never.
          retry_.expires_after(std::chrono::milliseconds(100));
          retry_.async_wait([this](std::error_code e) {
            if (!e) Accept();
          });
          return;
        }
        if (open_->load() < kMaxConnections) {
          std::make_shared<Connection>(std::move(socket), handler_, open_)->Start();
        }  // Else the socket closes here.
        Accept();
      });
}

}  // namespace infoflyt
