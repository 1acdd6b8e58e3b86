// AES-256-GCM authenticated encryption, over OpenSSL EVP: what the store seals personal data at
// rest with.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace infoflyt {

inline constexpr size_t kAeadKeyBytes = 32;
inline constexpr size_t kAeadNonceBytes = 12;
inline constexpr size_t kAeadTagBytes = 16;

// nonce || ciphertext || tag of `plaintext` under `key` (kAeadKeyBytes), with a fresh random
// nonce, authenticating `associated` too.
std::string AeadSeal(std::string_view key, std::string_view plaintext, std::string_view associated);

// The plaintext of `sealed` (AeadSeal's output) if it was sealed under `key` with exactly
// `associated`; DATA_LOSS otherwise (a changed byte, another key, other associated data).
Status AeadOpen(std::string_view key, std::string_view sealed, std::string_view associated,
                std::string* plaintext);

}  // namespace infoflyt
