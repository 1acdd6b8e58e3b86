// The operations side port: GET /metrics (Prometheus text format) and GET /healthz. Plain HTTP on
// a separate, normally loopback-only, address; it serves no personal data. Hand-written over
// Asio because the daemon already runs an Asio loop; prometheus-cpp's pull module would add a
// second embedded web server (civetweb) and its threads for two fixed GET routes.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"

namespace infoflyt {

class HttpServer {
 public:
  // Returns the body for a path, or false for 404.
  using Handler =
      std::function<bool(const std::string& path, std::string* content_type, std::string* body)>;

  HttpServer(asio::io_context& io, Handler handler);

  // Binds "host:port" (port 0 picks one) and starts accepting.
  Status Listen(const std::string& address);
  std::string bound_address() const;
  void Close();

 private:
  void Accept();

  Handler handler_;
  asio::ip::tcp::acceptor acceptor_;
};

}  // namespace infoflyt
