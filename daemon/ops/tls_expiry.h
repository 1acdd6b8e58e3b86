// When the daemon's TLS trust runs out, read from the files themselves: the server
// certificate's and the client CAs' notAfter, the CRLs' nextUpdate. For gauges and warnings,
// so that an expiry is seen before it refuses every connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace infoflyt {

struct TlsExpiry {
  std::optional<int64_t> server_certificate;  // Unix seconds; unset if unreadable.
  std::optional<int64_t> client_ca;           // The soonest of the bundle's certificates.
  std::optional<int64_t> crl_next_update;     // The soonest nextUpdate in the CRL directory.
};

// Reads `server_cert` (PEM, the first certificate), every certificate in `client_ca` and every
// CRL in `crl_directory` (if not empty).
TlsExpiry ReadTlsExpiry(const std::string& server_cert, const std::string& client_ca,
                        const std::string& crl_directory);

}  // namespace infoflyt
