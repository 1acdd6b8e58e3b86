// C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, and the checkpoint a
// transparency log signs with them (https://c2sp.org/tlog-checkpoint). The formats are those of
// Go's golang.org/x/mod/sumdb/note, so Go and other C2SP tools read our keys and notes.
//
// A note is a text ending in a newline, a blank line, then signature lines
// "— <key name> <base64(4-byte big-endian key ID || signature)>\n" (U+2014 EM DASH, space).
// The signature covers the text, final newline included.
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace infoflyt::merkle {

struct EvpPkeyFree {
  void operator()(EVP_PKEY* key) const;
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

// The key ID of an Ed25519 key: the first four bytes, big endian, of
// SHA-256(name || 0x0A || 0x01 || 32-byte public key), 0x01 being the Ed25519 signature type.
uint32_t Ed25519KeyId(std::string_view name, std::string_view public_key);

// Signs notes with one Ed25519 key. Immutable, so it may be shared between threads.
class NoteSigner {
 public:
  // A new random key named `name`. Key names must be non-empty UTF-8 without Unicode spaces,
  // '+' or control characters; INVALID_ARGUMENT otherwise.
  static Status Generate(std::string_view name, std::unique_ptr<NoteSigner>* out);
  // Takes `key`, which must be an Ed25519 private key; INVALID_ARGUMENT otherwise.
  static Status FromKey(std::string_view name, EvpPkeyPtr key, std::unique_ptr<NoteSigner>* out);
  // Parses "PRIVATE+KEY+<name>+<8 hex digit key ID>+<base64(0x01 || 32-byte seed)>", as
  // PrivateKey() writes it. INVALID_ARGUMENT if malformed or the key ID is not the key's.
  static Status FromPrivateKey(std::string_view private_key, std::unique_ptr<NoteSigner>* out);

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  // The secret key text FromPrivateKey reads: keep it like any private key.
  std::string PrivateKey() const;
  // "<name>+<8 hex digit key ID>+<base64(0x01 || 32-byte public key)>": what verifiers need.
  std::string VerifierKey() const;

  // *note = text + "\n" + this key's signature line. The text must be valid UTF-8 ending in a
  // newline, with no control characters but newlines; INVALID_ARGUMENT otherwise.
  Status SignNote(std::string_view text, std::string* note) const;

 private:
  NoteSigner(std::string name, EvpPkeyPtr key, std::string public_key);

  std::string name_;
  EvpPkeyPtr key_;
  std::string public_key_;  // 32 bytes.
  uint32_t key_id_;
};

// Checks notes against one trusted Ed25519 key. Immutable, so it may be shared between threads.
class NoteVerifier {
 public:
  // Parses "<name>+<8 hex digit key ID>+<base64(0x01 || 32-byte public key)>". INVALID_ARGUMENT
  // if malformed, not Ed25519, or the key ID is not the key's.
  static Status FromVerifierKey(std::string_view verifier_key, std::unique_ptr<NoteVerifier>* out);

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }

  // Checks `note` and sets *text to its signed text (final newline included). As the spec
  // requires: signatures by other keys (cosigners, rotated keys; same name or key ID but not
  // both) are ignored, and the note is rejected unless this key's signature verifies.
  // INVALID_ARGUMENT if the note is malformed (including more than 100 signatures or two by
  // this key); UNAUTHENTICATED if it has no signature by this key or that signature is bad.
  Status VerifyNote(std::string_view note, std::string* text) const;

 private:
  NoteVerifier(std::string name, EvpPkeyPtr key, uint32_t key_id);

  std::string name_;
  EvpPkeyPtr key_;
  uint32_t key_id_;
};

// A tlog checkpoint: the note text a log signs to commit to its tree at one size.
struct Checkpoint {
  std::string origin;  // The log's identity, e.g. "example.com/log42"; usually its key name.
  uint64_t size = 0;
  std::string root;                     // RFC 9162 root hash at `size`, kHashSize bytes.
  std::vector<std::string> extensions;  // Optional opaque lines; the spec discourages them.

  // "<origin>\n<size in decimal>\n<base64 root>\n" then one line per extension.
  // INVALID_ARGUMENT if the origin or an extension is empty or has a newline, or the root is
  // not kHashSize bytes.
  Status Format(std::string* text) const;
  // The inverse of Format, strict: no leading zeros in the size, canonical base64.
  static Status Parse(std::string_view text, Checkpoint* out);
};

}  // namespace infoflyt::merkle
