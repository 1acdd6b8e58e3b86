#include "base/host_port.h"

#include <charconv>

namespace infoflyt {

Status ParseHostPort(std::string_view text, std::string_view field, HostPort* out) {
  const auto bad = [&] {
    return Status(Code::kInvalidArgument, std::string(field) + " must be host:port (e.g. " +
                                              "127.0.0.1:50051 or [::1]:50051), got \"" +
                                              std::string(text) + "\"");
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad();
  std::string_view host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad();
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad();  // An IPv6 address needs its brackets, or the port is ambiguous.
  }
  const std::string_view port = text.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return bad();
  }
  *out = {std::string(host), static_cast<uint16_t>(value)};
  return Status::Ok();
}

}  // namespace infoflyt
