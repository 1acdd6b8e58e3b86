#include "base/aead.h"

#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

#include "base/crypto.h"

namespace infoflyt {
namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

// Fetched once, as Sha256 does: the handle is immutable, shared, and lives as long as the process.
const EVP_CIPHER* Aes256Gcm() {
  static const EVP_CIPHER* const kCipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (kCipher == nullptr) throw std::runtime_error("EVP_CIPHER_fetch(AES-256-GCM) failed");
  return kCipher;
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

}  // namespace

std::string AeadSeal(std::string_view key, std::string_view plaintext,
                     std::string_view associated) {
  if (key.size() != kAeadKeyBytes) throw std::invalid_argument("AES-256-GCM key is 32 bytes");
  const std::string nonce = RandomBytes(kAeadNonceBytes);
  std::string out(kAeadNonceBytes + plaintext.size() + kAeadTagBytes, '\0');
  out.replace(0, kAeadNonceBytes, nonce);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int tail = 0;
  unsigned char* body = Bytes(out) + kAeadNonceBytes;
  if (ctx == nullptr ||
      EVP_EncryptInit_ex2(ctx.get(), Aes256Gcm(), Bytes(key), Bytes(nonce), nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(associated),
                        static_cast<int>(associated.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), body, &len, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), body + len, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kAeadTagBytes),
                          body + plaintext.size()) != 1) {
    throw std::runtime_error("AES-256-GCM encryption failed");
  }
  return out;
}

Status AeadOpen(std::string_view key, std::string_view sealed, std::string_view associated,
                std::string* plaintext) {
  if (key.size() != kAeadKeyBytes) throw std::invalid_argument("AES-256-GCM key is 32 bytes");
  if (sealed.size() < kAeadNonceBytes + kAeadTagBytes) {
    return {Code::kDataLoss, "sealed value is shorter than its nonce and tag"};
  }
  const size_t n = sealed.size() - kAeadNonceBytes - kAeadTagBytes;
  std::string out(n, '\0');
  // The tag is set from a copy: EVP_CTRL_GCM_SET_TAG takes a non-const pointer.
  std::string tag(sealed.substr(kAeadNonceBytes + n));
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int tail = 0;
  if (ctx == nullptr ||
      EVP_DecryptInit_ex2(ctx.get(), Aes256Gcm(), Bytes(key), Bytes(sealed), nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(associated),
                        static_cast<int>(associated.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), Bytes(out), &len, Bytes(sealed) + kAeadNonceBytes,
                        static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kAeadTagBytes),
                          tag.data()) != 1) {
    throw std::runtime_error("AES-256-GCM decryption could not start");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), Bytes(out) + len, &tail) != 1) {
    return {Code::kDataLoss,
            "sealed value fails authentication (changed, or another key or "
            "owner)"};
  }
  *plaintext = std::move(out);
  return Status::Ok();
}

}  // namespace infoflyt
