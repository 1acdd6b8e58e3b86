#include "merkle/signed_note.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <limits>

#include "base/crypto.h"
#include "merkle/merkle_hash.h"

namespace infoflyt::merkle {
namespace {

constexpr std::string_view kSignaturePrefix = "\xE2\x80\x94 ";  // U+2014 EM DASH, space.
constexpr std::string_view kPrivateKeyPrefix = "PRIVATE+KEY+";
constexpr char kEd25519Type = '\x01';  // The signature type byte of signed-note Ed25519 keys.
constexpr size_t kEd25519KeySize = 32;
constexpr size_t kEd25519SignatureSize = 64;
// The spec requires accepting at least 16; Go's note package allows 100.
constexpr size_t kMaxSignatures = 100;

Status Invalid(std::string message) { return {Code::kInvalidArgument, std::move(message)}; }

// The code point at text[*pos], advancing *pos past it; -1 if the bytes there are not
// well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or code points above U+10FFFF).
int32_t NextCodePoint(std::string_view text, size_t* pos) {
  const auto lead = static_cast<unsigned char>(text[*pos]);
  if (lead < 0x80) {
    ++*pos;
    return lead;
  }
  size_t length = 0;
  int32_t smallest = 0;  // Anything smaller has a shorter encoding.
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    smallest = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    smallest = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    smallest = 0x10000;
  } else {
    return -1;
  }
  int32_t code_point = lead & (0x7F >> length);
  if (text.size() - *pos < length) return -1;
  for (size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(text[*pos + i]);
    if ((next & 0xC0) != 0x80) return -1;
    code_point = (code_point << 6) | (next & 0x3F);
  }
  if (code_point < smallest || code_point > 0x10FFFF ||
      (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return -1;
  }
  *pos += length;
  return code_point;
}

// Whether `text` is well-formed UTF-8 and every code point in it satisfies `allowed`.
template <typename Predicate>
bool AllCodePoints(std::string_view text, Predicate allowed) {
  for (size_t pos = 0; pos < text.size();) {
    const int32_t code_point = NextCodePoint(text, &pos);
    if (code_point < 0 || !allowed(code_point)) return false;
  }
  return true;
}

// The Unicode White_Space property (what Go's unicode.IsSpace reports).
bool IsUnicodeSpace(int32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

bool IsValidKeyName(std::string_view name) {
  // Control characters are excluded too: the name goes into the note, which may not have any.
  return !name.empty() &&
         AllCodePoints(name, [](int32_t c) { return c >= 0x20 && c != '+' && !IsUnicodeSpace(c); });
}

// What both the note and the text it signs must be: valid UTF-8, no control characters but
// newlines, ending in a newline.
bool IsValidNoteText(std::string_view text) {
  return !text.empty() && text.back() == '\n' &&
         AllCodePoints(text, [](int32_t c) { return c >= 0x20 || c == '\n'; });
}

constexpr char kBase64Digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// RFC 4648 §4 base64, padded.
std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t group = 0;
    for (size_t j = 0; j < 3; ++j) {
      group = (group << 8) | (j < n ? static_cast<unsigned char>(bytes[i + j]) : 0u);
    }
    for (size_t j = 0; j < 4; ++j) {
      out.push_back(j <= n ? kBase64Digits[(group >> (18 - 6 * j)) & 0x3F] : '=');
    }
  }
  return out;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Strict RFC 4648 §4 decoding: padded, nothing outside the alphabet, and the unused bits of the
// last group zero, so each value has exactly one accepted encoding (no malleable signatures).
bool Base64Decode(std::string_view text, std::string* out) {
  if (text.size() % 4 != 0) return false;
  out->clear();
  out->reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    size_t padding = 0;
    if (i + 4 == text.size() && text[i + 3] == '=') padding = text[i + 2] == '=' ? 2 : 1;
    uint32_t group = 0;
    for (size_t j = 0; j < 4; ++j) {
      const int value = j < 4 - padding ? Base64Value(text[i + j]) : 0;
      if (value < 0) return false;
      group = (group << 6) | static_cast<uint32_t>(value);
    }
    if ((padding == 1 && (group & 0xFF) != 0) || (padding == 2 && (group & 0xFFFF) != 0)) {
      return false;
    }
    for (size_t j = 0; j < 3 - padding; ++j) {
      out->push_back(static_cast<char>(group >> (16 - 8 * j)));
    }
  }
  return true;
}

std::string KeyIdHex(uint32_t id) {
  const char bytes[4] = {static_cast<char>(id >> 24), static_cast<char>(id >> 16),
                         static_cast<char>(id >> 8), static_cast<char>(id)};
  return ToHex(std::string_view(bytes, 4));
}

bool ParseKeyIdHex(std::string_view hex, uint32_t* id) {
  if (hex.size() != 8) return false;
  *id = 0;
  for (char c : hex) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return false;
    }
    *id = (*id << 4) | static_cast<uint32_t>(digit);
  }
  return true;
}

uint32_t BigEndian32(std::string_view bytes) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

// Splits "<name>+<hex key ID>+<base64 key>" (the base64 may itself contain '+') and checks
// the name and the key's type byte and size. *key is the raw key without its type byte.
Status ParseKeyText(std::string_view text, std::string* name, uint32_t* id, std::string* key) {
  const size_t first = text.find('+');
  const size_t second =
      first == std::string_view::npos ? std::string_view::npos : text.find('+', first + 1);
  if (second == std::string_view::npos) return Invalid("key is not <name>+<key ID>+<key>");
  *name = std::string(text.substr(0, first));
  if (!IsValidKeyName(*name)) return Invalid("key has an invalid key name");
  if (!ParseKeyIdHex(text.substr(first + 1, second - first - 1), id)) {
    return Invalid("key ID of key " + *name + " is not 8 hex digits");
  }
  std::string typed;
  if (!Base64Decode(text.substr(second + 1), &typed)) {
    return Invalid("key " + *name + " is not valid base64");
  }
  if (typed.size() != 1 + kEd25519KeySize || typed[0] != kEd25519Type) {
    OPENSSL_cleanse(typed.data(), typed.size());
    return Invalid("key " + *name + " is not an Ed25519 key");
  }
  key->assign(typed, 1);
  OPENSSL_cleanse(typed.data(), typed.size());
  return Status::Ok();
}

std::string RawPublicKey(const EVP_PKEY* key) {
  std::string raw(kEd25519KeySize, '\0');
  size_t size = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &size) != 1 ||
      size != kEd25519KeySize) {
    return {};
  }
  return raw;
}

struct EvpMdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, EvpMdCtxFree>;

// One parsed signature line.
struct SignatureLine {
  std::string name;
  uint32_t key_id = 0;
  std::string signature;  // Without the key ID.
};

}  // namespace

void EvpPkeyFree::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

uint32_t Ed25519KeyId(std::string_view name, std::string_view public_key) {
  std::string input(name);
  input.push_back('\n');
  input.push_back(kEd25519Type);
  input.append(public_key);
  return BigEndian32(Sha256(input));
}

NoteSigner::NoteSigner(std::string name, EvpPkeyPtr key, std::string public_key)
    : name_(std::move(name)),
      key_(std::move(key)),
      public_key_(std::move(public_key)),
      key_id_(Ed25519KeyId(name_, public_key_)) {}

Status NoteSigner::Generate(std::string_view name, std::unique_ptr<NoteSigner>* out) {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (key == nullptr) return {Code::kInternal, "Ed25519 key generation failed"};
  return FromKey(name, std::move(key), out);
}

Status NoteSigner::FromKey(std::string_view name, EvpPkeyPtr key,
                           std::unique_ptr<NoteSigner>* out) {
  if (!IsValidKeyName(name)) return Invalid("invalid key name");
  if (key == nullptr || EVP_PKEY_is_a(key.get(), "ED25519") != 1) {
    return Invalid("signing key for " + std::string(name) + " is not an Ed25519 key");
  }
  size_t private_size = 0;
  if (EVP_PKEY_get_raw_private_key(key.get(), nullptr, &private_size) != 1 ||
      private_size != kEd25519KeySize) {
    return Invalid("signing key for " + std::string(name) + " has no private key");
  }
  std::string public_key = RawPublicKey(key.get());
  if (public_key.empty()) return {Code::kInternal, "cannot read the Ed25519 public key"};
  *out = std::unique_ptr<NoteSigner>(
      new NoteSigner(std::string(name), std::move(key), std::move(public_key)));
  return Status::Ok();
}

Status NoteSigner::FromPrivateKey(std::string_view private_key, std::unique_ptr<NoteSigner>* out) {
  if (!private_key.starts_with(kPrivateKeyPrefix)) {
    return Invalid("private key does not start with " + std::string(kPrivateKeyPrefix));
  }
  std::string name;
  uint32_t id = 0;
  std::string seed;
  if (Status s = ParseKeyText(private_key.substr(kPrivateKeyPrefix.size()), &name, &id, &seed);
      !s.ok()) {
    return s;
  }
  EvpPkeyPtr key(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed.data()), seed.size()));
  OPENSSL_cleanse(seed.data(), seed.size());
  if (key == nullptr) return {Code::kInternal, "cannot load the Ed25519 private key"};
  std::unique_ptr<NoteSigner> signer;
  if (Status s = FromKey(name, std::move(key), &signer); !s.ok()) return s;
  if (signer->key_id() != id) {
    return Invalid("key ID " + KeyIdHex(id) + " in private key " + name + " is not the key's (" +
                   KeyIdHex(signer->key_id()) + ")");
  }
  *out = std::move(signer);
  return Status::Ok();
}

std::string NoteSigner::PrivateKey() const {
  std::string typed(1 + kEd25519KeySize, kEd25519Type);
  size_t size = kEd25519KeySize;
  // FromKey checked that the key has a 32-byte private part.
  EVP_PKEY_get_raw_private_key(key_.get(), reinterpret_cast<unsigned char*>(typed.data() + 1),
                               &size);
  std::string text =
      std::string(kPrivateKeyPrefix) + name_ + "+" + KeyIdHex(key_id_) + "+" + Base64Encode(typed);
  OPENSSL_cleanse(typed.data(), typed.size());
  return text;
}

std::string NoteSigner::VerifierKey() const {
  return name_ + "+" + KeyIdHex(key_id_) + "+" + Base64Encode(kEd25519Type + public_key_);
}

Status NoteSigner::SignNote(std::string_view text, std::string* note) const {
  if (!IsValidNoteText(text)) {
    return Invalid(
        "note text must be UTF-8 ending in a newline, with no control characters but newlines");
  }
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  std::string signed_id(4 + kEd25519SignatureSize, '\0');
  for (size_t i = 0; i < 4; ++i) signed_id[i] = static_cast<char>(key_id_ >> (24 - 8 * i));
  size_t size = kEd25519SignatureSize;
  // Ed25519 is "pure": no separate digest, hence the null EVP_MD.
  if (ctx == nullptr || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signed_id.data() + 4), &size,
                     reinterpret_cast<const unsigned char*>(text.data()), text.size()) != 1 ||
      size != kEd25519SignatureSize) {
    return {Code::kInternal, "Ed25519 signing failed"};
  }
  note->assign(text);
  note->append("\n");
  note->append(kSignaturePrefix);
  note->append(name_);
  note->append(" ");
  note->append(Base64Encode(signed_id));
  note->append("\n");
  return Status::Ok();
}

NoteVerifier::NoteVerifier(std::string name, EvpPkeyPtr key, uint32_t key_id)
    : name_(std::move(name)), key_(std::move(key)), key_id_(key_id) {}

Status NoteVerifier::FromVerifierKey(std::string_view verifier_key,
                                     std::unique_ptr<NoteVerifier>* out) {
  std::string name;
  uint32_t id = 0;
  std::string public_key;
  if (Status s = ParseKeyText(verifier_key, &name, &id, &public_key); !s.ok()) return s;
  if (Ed25519KeyId(name, public_key) != id) {
    return Invalid("key ID " + KeyIdHex(id) + " in verifier key " + name + " is not the key's (" +
                   KeyIdHex(Ed25519KeyId(name, public_key)) + ")");
  }
  EvpPkeyPtr key(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(public_key.data()),
      public_key.size()));
  if (key == nullptr) return Invalid("verifier key " + name + " is not a valid Ed25519 key");
  *out = std::unique_ptr<NoteVerifier>(new NoteVerifier(std::move(name), std::move(key), id));
  return Status::Ok();
}

Status NoteVerifier::VerifyNote(std::string_view note, std::string* text) const {
  if (!IsValidNoteText(note)) {
    return Invalid("note is not UTF-8 ending in a newline without control characters but newlines");
  }
  // The text ends at the last blank line; signature lines cannot contain one.
  const size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos)
    return Invalid("note has no blank line before its signatures");
  const std::string_view signed_text = note.substr(0, split + 1);

  std::vector<SignatureLine> lines;
  std::string_view rest = note.substr(split + 2);
  if (rest.empty()) return Invalid("note has no signatures");
  while (!rest.empty()) {
    if (lines.size() == kMaxSignatures) {
      return Invalid("note has more than " + std::to_string(kMaxSignatures) + " signatures");
    }
    const size_t end = rest.find('\n');  // Found: the note ends in a newline.
    std::string_view line = rest.substr(0, end);
    rest.remove_prefix(end + 1);
    if (!line.starts_with(kSignaturePrefix)) {
      return Invalid("note signature line does not start with an em dash and a space");
    }
    line.remove_prefix(kSignaturePrefix.size());
    const size_t space = line.find(' ');
    SignatureLine parsed;
    std::string decoded;
    if (space == std::string_view::npos || !IsValidKeyName(line.substr(0, space)) ||
        !Base64Decode(line.substr(space + 1), &decoded) || decoded.size() < 5) {
      return Invalid("note has a malformed signature line");
    }
    parsed.name = std::string(line.substr(0, space));
    parsed.key_id = BigEndian32(decoded);
    parsed.signature = decoded.substr(4);
    lines.push_back(std::move(parsed));
  }

  const SignatureLine* ours = nullptr;
  for (const SignatureLine& line : lines) {
    if (line.name != name_ || line.key_id != key_id_) continue;
    if (ours != nullptr) return Invalid("note has two signatures by key " + name_);
    ours = &line;
  }
  if (ours == nullptr) return {Code::kUnauthenticated, "note is not signed by key " + name_};
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1) {
    return {Code::kInternal, "cannot set up Ed25519 verification"};
  }
  if (ours->signature.size() != kEd25519SignatureSize ||
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(ours->signature.data()),
                       ours->signature.size(),
                       reinterpret_cast<const unsigned char*>(signed_text.data()),
                       signed_text.size()) != 1) {
    return {Code::kUnauthenticated, "note signature by key " + name_ + " does not verify"};
  }
  text->assign(signed_text);
  return Status::Ok();
}

Status Checkpoint::Format(std::string* text) const {
  if (origin.empty() || origin.find('\n') != std::string_view::npos) {
    return Invalid("checkpoint origin must be one non-empty line");
  }
  if (root.size() != kHashSize) {
    return Invalid("checkpoint root hash must be " + std::to_string(kHashSize) + " bytes");
  }
  for (const std::string& line : extensions) {
    if (line.empty() || line.find('\n') != std::string_view::npos) {
      return Invalid("checkpoint extension lines must be non-empty single lines");
    }
  }
  *text = origin + "\n" + std::to_string(size) + "\n" + Base64Encode(root) + "\n";
  for (const std::string& line : extensions) *text += line + "\n";
  return Status::Ok();
}

Status Checkpoint::Parse(std::string_view text, Checkpoint* out) {
  if (text.empty() || text.back() != '\n') return Invalid("checkpoint does not end in a newline");
  std::vector<std::string_view> lines;
  for (size_t begin = 0; begin < text.size();) {
    const size_t end = text.find('\n', begin);
    lines.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  if (lines.size() < 3) return Invalid("checkpoint has fewer than three lines");
  for (std::string_view line : lines) {
    if (line.empty()) return Invalid("checkpoint has an empty line");
  }

  const std::string_view size_text = lines[1];
  uint64_t size = 0;
  if (size_text.size() > 1 && size_text[0] == '0') {
    return Invalid("checkpoint tree size has a leading zero");
  }
  for (char c : size_text) {
    if (c < '0' || c > '9') return Invalid("checkpoint tree size is not a decimal number");
    const auto digit = static_cast<uint64_t>(c - '0');
    if (size > (std::numeric_limits<uint64_t>::max() - digit) / 10)
      return Invalid("checkpoint tree size is too large");
    size = size * 10 + digit;
  }
  std::string root;
  if (!Base64Decode(lines[2], &root) || root.size() != kHashSize) {
    return Invalid("checkpoint root hash is not base64 of " + std::to_string(kHashSize) + " bytes");
  }

  out->origin = std::string(lines[0]);
  out->size = size;
  out->root = std::move(root);
  out->extensions.assign(lines.begin() + 3, lines.end());
  return Status::Ok();
}

}  // namespace infoflyt::merkle
