// When the daemon's TLS trust runs out, read from the files themselves: the server
// certificate's and the client CAs' notAfter (the CRLs' nextUpdate the daemon has parsed
// already: revocation_list.h). For gauges and warnings, so that an expiry is seen before it
// refuses every connection.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace infoflyt {

struct TlsExpiry {
  std::optional<int64_t> server_certificate;  // Unix seconds; unset if unreadable.
  std::optional<int64_t> client_ca;           // The soonest of the bundle's certificates.
  std::map<std::string, int64_t> client_cas;  // Each of them, by subject (the soonest of a name).
};

// Reads `server_cert` (PEM, the first certificate) and every certificate in `client_ca`.
TlsExpiry ReadTlsExpiry(const std::string& server_cert, const std::string& client_ca);

}  // namespace infoflyt
