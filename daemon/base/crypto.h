// The few cryptographic primitives infoflyt needs, over OpenSSL EVP.
#pragma once

#include <string>
#include <string_view>

namespace infoflyt {

// SHA-256 digest (32 raw bytes).
std::string Sha256(std::string_view data);
// HMAC-SHA-256 (32 raw bytes).
std::string HmacSha256(std::string_view key, std::string_view data);
// Lower-case hex.
std::string ToHex(std::string_view bytes);
// The bytes `hex` spells (upper or lower case, no separators); false if it is not hex.
bool FromHex(std::string_view hex, std::string* bytes);
// `n` bytes from the OpenSSL CSPRNG.
std::string RandomBytes(size_t n);
// An RFC 9562 version 7 UUID (Unix milliseconds, then random bits) in canonical text form.
// Time-ordered, so ids of new messages land at the end of the store's indexes.
std::string NewUuidV7();

}  // namespace infoflyt
