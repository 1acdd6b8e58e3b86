// The operations side port: GET /metrics (Prometheus text format) and GET /healthz. Plain HTTP on
// a separate, normally loopback-only, address; it serves no personal data. Hand-written over
// Asio because the daemon already runs an Asio loop; prometheus-cpp's pull module would add a
// second embedded web server (civetweb) and its threads for two fixed GET routes. A client
// gets 5 s to send its request, and at most 64 connections are open at once, so idle or
// flooding connections cannot pile up.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"

namespace infoflyt {

class HttpServer {
 public:
  // Sets the body for a path and returns the HTTP status (200, 404, 503, ...).
  using Handler =
      std::function<int(const std::string& path, std::string* content_type, std::string* body)>;

  HttpServer(asio::io_context& io, Handler handler);

  // Binds "host:port" (port 0 picks one) and starts accepting.
  Status Listen(const std::string& address);
  std::string bound_address() const;
  void Close();

 private:
  void Accept();

  Handler handler_;
  asio::ip::tcp::acceptor acceptor_;
  // After a failed accept (e.g. out of descriptors), when to try again.
  asio::steady_timer retry_;
  // Connections open now; at most 64 at once.
  std::shared_ptr<std::atomic<int>> open_ = std::make_shared<std::atomic<int>>(0);
};

}  // namespace infoflyt
