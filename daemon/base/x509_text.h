// X.509 values as text and numbers, the same way wherever the daemon compares or logs them.
#pragma once

#include <openssl/asn1.h>
#include <openssl/x509.h>

#include <cstdint>
#include <optional>
#include <string>

namespace infoflyt {

// RFC 2253, e.g. "CN=oslo,OU=police,O=infoflyt development".
std::string NameText(const X509_NAME* name);
// Upper-case hex without leading zeros, as `openssl x509 -serial` and CRLs print it.
std::string SerialHex(const ASN1_INTEGER* serial);
// Unix seconds; unset for a missing or unreadable time.
std::optional<int64_t> UnixTime(const ASN1_TIME* t);

}  // namespace infoflyt
