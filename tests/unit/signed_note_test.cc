#include "merkle/signed_note.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "base/crypto.h"
#include "merkle/merkle_hash.h"

namespace infoflyt::merkle {
namespace {

// ---------------------------------------------------------------------------------------------
// An independent verifier written from https://c2sp.org/signed-note with raw OpenSSL calls,
// sharing no code with signed_note.cc.

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// "key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte Ed25519 public key)[:4]", big endian.
uint32_t SpecKeyId(const std::string& name, const std::string& public_key) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  unsigned char digest[32];
  unsigned int size = 0;
  EXPECT_EQ(EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr), 1);
  EVP_DigestUpdate(ctx.get(), name.data(), name.size());
  EVP_DigestUpdate(ctx.get(), "\n\x01", 2);
  EVP_DigestUpdate(ctx.get(), public_key.data(), public_key.size());
  EXPECT_EQ(EVP_DigestFinal_ex(ctx.get(), digest, &size), 1);
  return (uint32_t{digest[0]} << 24) | (uint32_t{digest[1]} << 16) | (uint32_t{digest[2]} << 8) |
         digest[3];
}

std::string SpecBase64Decode(const std::string& text) {
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return {};
  out.resize(n);
  // EVP_DecodeBlock decodes padding as zero bytes.
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) out.pop_back();
  return out;
}

std::string SpecBase64Encode(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(n);
  return out;
}

// True iff `note` carries a valid Ed25519 signature by (name, public_key) over its text.
bool SpecVerify(const std::string& note, const std::string& name, const std::string& public_key,
                std::string* text) {
  // "the text is separated from the signatures by the last empty line in the note".
  const size_t blank = note.rfind("\n\n");
  if (blank == std::string::npos) return false;
  *text = note.substr(0, blank + 1);  // "The note text includes the final newline".
  std::string signatures = note.substr(blank + 2);
  const std::string dash = "\xE2\x80\x94 ";  // "em dash (U+2014), space (U+0020)".
  const uint32_t want_id = SpecKeyId(name, public_key);
  bool verified = false;
  while (!signatures.empty()) {
    const size_t newline = signatures.find('\n');
    if (newline == std::string::npos) return false;
    std::string line = signatures.substr(0, newline);
    signatures.erase(0, newline + 1);
    if (line.compare(0, dash.size(), dash) != 0) return false;
    line.erase(0, dash.size());
    const size_t space = line.find(' ');
    if (space == std::string::npos) return false;
    const std::string line_name = line.substr(0, space);
    const std::string sig = SpecBase64Decode(line.substr(space + 1));
    if (sig.size() != 4 + 64) continue;  // Not an Ed25519 signature: someone else's.
    const uint32_t id = (uint32_t{static_cast<unsigned char>(sig[0])} << 24) |
                        (uint32_t{static_cast<unsigned char>(sig[1])} << 16) |
                        (uint32_t{static_cast<unsigned char>(sig[2])} << 8) |
                        static_cast<unsigned char>(sig[3]);
    if (line_name != name || id != want_id) continue;
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                    reinterpret_cast<const unsigned char*>(public_key.data()),
                                    public_key.size()),
        EVP_PKEY_free);
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    if (key == nullptr ||
        EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
        EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data() + 4), 64,
                         reinterpret_cast<const unsigned char*>(text->data()), text->size()) != 1) {
      return false;
    }
    verified = true;
  }
  return verified;
}

// ---------------------------------------------------------------------------------------------

EvpPkeyPtr NewEd25519Key() { return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")); }

std::string RawPublicKey(const EvpPkeyPtr& key) {
  std::string raw(32, '\0');
  size_t size = raw.size();
  EXPECT_EQ(
      EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(raw.data()), &size),
      1);
  return raw;
}

std::unique_ptr<NoteVerifier> VerifierFor(const NoteSigner& signer) {
  std::unique_ptr<NoteVerifier> verifier;
  EXPECT_TRUE(NoteVerifier::FromVerifierKey(signer.VerifierKey(), &verifier).ok());
  return verifier;
}

std::string Checkpoint8() {
  Checkpoint checkpoint{"example.com/infoflyt-log", 8, Sha256("root of 8"), {}};
  std::string text;
  EXPECT_TRUE(checkpoint.Format(&text).ok());
  return text;
}

TEST(SignedNoteTest, KeyIdAndVerifierKeyFollowTheSpec) {
  EvpPkeyPtr key = NewEd25519Key();
  const std::string public_key = RawPublicKey(key);
  std::unique_ptr<NoteSigner> signer;
  ASSERT_TRUE(NoteSigner::FromKey("example.com/log", std::move(key), &signer).ok());
  const uint32_t id = SpecKeyId("example.com/log", public_key);
  EXPECT_EQ(Ed25519KeyId("example.com/log", public_key), id);
  EXPECT_EQ(signer->key_id(), id);
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", id);
  EXPECT_EQ(signer->VerifierKey(),
            "example.com/log+" + std::string(hex) + "+" + SpecBase64Encode("\x01" + public_key));
}

// The example keys and note in the documentation of Go's golang.org/x/mod/sumdb/note.
TEST(SignedNoteTest, MatchesGoSumdbNoteExample) {
  const std::string skey =
      "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
  const std::string vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
  const std::string text =
      "If you think cryptography is the answer to your problem,\n"
      "then you don't know what your problem is.\n";
  const std::string note =
      text +
      "\n— PeterNeumann "
      "x08go/ZJkuBS9UG/"
      "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

  std::unique_ptr<NoteSigner> signer;
  ASSERT_TRUE(NoteSigner::FromPrivateKey(skey, &signer).ok());
  EXPECT_EQ(signer->key_id(), 0xc74f20a3u);
  EXPECT_EQ(signer->VerifierKey(), vkey);
  EXPECT_EQ(signer->PrivateKey(), skey);
  std::string signed_note;
  ASSERT_TRUE(signer->SignNote(text, &signed_note).ok());
  EXPECT_EQ(signed_note, note);  // Ed25519 signatures are deterministic.

  std::unique_ptr<NoteVerifier> verifier;
  ASSERT_TRUE(NoteVerifier::FromVerifierKey(vkey, &verifier).ok());
  std::string verified_text;
  ASSERT_TRUE(verifier->VerifyNote(note, &verified_text).ok());
  EXPECT_EQ(verified_text, text);
}

TEST(SignedNoteTest, SignedCheckpointVerifiesWithAnIndependentVerifier) {
  EvpPkeyPtr key = NewEd25519Key();
  const std::string public_key = RawPublicKey(key);
  std::unique_ptr<NoteSigner> signer;
  ASSERT_TRUE(NoteSigner::FromKey("example.com/infoflyt-log", std::move(key), &signer).ok());
  const std::string body = Checkpoint8();
  std::string note;
  ASSERT_TRUE(signer->SignNote(body, &note).ok());

  // Exactly one signature line, after the body and a blank line.
  ASSERT_EQ(note.compare(0, body.size() + 1, body + "\n"), 0);
  const std::string line = note.substr(body.size() + 1);
  EXPECT_EQ(line.compare(0, 4 + 25, "\xE2\x80\x94 example.com/infoflyt-log "), 0) << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1);

  std::string text;
  ASSERT_TRUE(SpecVerify(note, "example.com/infoflyt-log", public_key, &text));
  EXPECT_EQ(text, body);
  ASSERT_TRUE(VerifierFor(*signer)->VerifyNote(note, &text).ok());
  EXPECT_EQ(text, body);

  Checkpoint parsed;
  ASSERT_TRUE(Checkpoint::Parse(text, &parsed).ok());
  EXPECT_EQ(parsed.origin, "example.com/infoflyt-log");
  EXPECT_EQ(parsed.size, 8u);
  EXPECT_EQ(parsed.root, Sha256("root of 8"));
}

TEST(SignedNoteTest, TamperingIsDetected) {
  EvpPkeyPtr key = NewEd25519Key();
  const std::string public_key = RawPublicKey(key);
  std::unique_ptr<NoteSigner> signer;
  ASSERT_TRUE(NoteSigner::FromKey("example.com/log", std::move(key), &signer).ok());
  const std::unique_ptr<NoteVerifier> verifier = VerifierFor(*signer);
  std::string note;
  ASSERT_TRUE(signer->SignNote(Checkpoint8(), &note).ok());
  std::string text;

  // Any changed byte of the body (the size, a root digit, the origin).
  std::string body_changed = note;
  body_changed[body_changed.find("\n8\n") + 1] = '9';
  EXPECT_EQ(verifier->VerifyNote(body_changed, &text).code(), Code::kUnauthenticated);
  EXPECT_FALSE(SpecVerify(body_changed, "example.com/log", public_key, &text));
  for (size_t i = 0; i < Checkpoint8().size() - 1; ++i) {
    std::string changed = note;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(verifier->VerifyNote(changed, &text).ok()) << "byte " << i;
  }

  // A changed signature: one base64 digit of the signature (not of the key ID).
  const size_t sig_start = note.rfind(' ') + 1;
  std::string sig_changed = note;
  char& digit = sig_changed[sig_start + 20];
  digit = digit == 'A' ? 'B' : 'A';
  EXPECT_EQ(verifier->VerifyNote(sig_changed, &text).code(), Code::kUnauthenticated);
  EXPECT_FALSE(SpecVerify(sig_changed, "example.com/log", public_key, &text));

  // Another key name: the signature is then someone else's, and ours is missing.
  std::string name_changed = note;
  name_changed.replace(name_changed.rfind("example.com/log"), 15, "example.com/loh");
  const Status status = verifier->VerifyNote(name_changed, &text);
  EXPECT_EQ(status.code(), Code::kUnauthenticated);
  EXPECT_EQ(status.message(), "note is not signed by key example.com/log");
  EXPECT_FALSE(SpecVerify(name_changed, "example.com/log", public_key, &text));
}

TEST(SignedNoteTest, UnknownKeysAreIgnoredButNeverEnough) {
  std::unique_ptr<NoteSigner> log;
  std::unique_ptr<NoteSigner> witness;
  std::unique_ptr<NoteSigner> impostor;  // Same name as the log, different key.
  ASSERT_TRUE(NoteSigner::Generate("example.com/log", &log).ok());
  ASSERT_TRUE(NoteSigner::Generate("example.com/witness", &witness).ok());
  ASSERT_TRUE(NoteSigner::Generate("example.com/log", &impostor).ok());
  const std::string body = Checkpoint8();
  std::string by_log;
  std::string by_witness;
  std::string by_impostor;
  ASSERT_TRUE(log->SignNote(body, &by_log).ok());
  ASSERT_TRUE(witness->SignNote(body, &by_witness).ok());
  ASSERT_TRUE(impostor->SignNote(body, &by_impostor).ok());
  std::string text;

  EXPECT_EQ(VerifierFor(*log)->VerifyNote(by_witness, &text).code(), Code::kUnauthenticated);
  EXPECT_EQ(VerifierFor(*log)->VerifyNote(by_impostor, &text).code(), Code::kUnauthenticated);

  // Cosigned: each verifier finds its own signature and ignores the others'.
  const std::string cosigned =
      by_impostor + by_witness.substr(body.size() + 1) + by_log.substr(body.size() + 1);
  EXPECT_TRUE(VerifierFor(*log)->VerifyNote(cosigned, &text).ok());
  EXPECT_TRUE(VerifierFor(*witness)->VerifyNote(cosigned, &text).ok());
  EXPECT_EQ(text, body);

  // Two signatures by one key make the note malformed.
  const std::string twice = by_log + by_log.substr(body.size() + 1);
  EXPECT_EQ(VerifierFor(*log)->VerifyNote(twice, &text).code(), Code::kInvalidArgument);
}

TEST(SignedNoteTest, PrivateKeyRoundTrips) {
  std::unique_ptr<NoteSigner> signer;
  ASSERT_TRUE(NoteSigner::Generate("example.com/log", &signer).ok());
  const std::string private_key = signer->PrivateKey();
  EXPECT_EQ(private_key.rfind("PRIVATE+KEY+example.com/log+", 0), 0u);
  std::unique_ptr<NoteSigner> loaded;
  ASSERT_TRUE(NoteSigner::FromPrivateKey(private_key, &loaded).ok());
  EXPECT_EQ(loaded->name(), "example.com/log");
  EXPECT_EQ(loaded->key_id(), signer->key_id());
  EXPECT_EQ(loaded->VerifierKey(), signer->VerifierKey());
  EXPECT_EQ(loaded->PrivateKey(), private_key);
  std::string a;
  std::string b;
  ASSERT_TRUE(signer->SignNote("hello\n", &a).ok());
  ASSERT_TRUE(loaded->SignNote("hello\n", &b).ok());
  EXPECT_EQ(a, b);

  // A wrong key ID, type byte or name is refused.
  std::unique_ptr<NoteSigner> refused;
  std::string wrong_id = private_key;
  char& hex = wrong_id[std::string("PRIVATE+KEY+example.com/log+").size()];
  hex = hex == '0' ? '1' : '0';
  EXPECT_EQ(NoteSigner::FromPrivateKey(wrong_id, &refused).code(), Code::kInvalidArgument);
  std::string wrong_name = private_key;
  wrong_name.replace(12, 15, "example.com/loh");
  EXPECT_EQ(NoteSigner::FromPrivateKey(wrong_name, &refused).code(), Code::kInvalidArgument);
  EXPECT_FALSE(NoteSigner::FromPrivateKey(private_key.substr(12), &refused).ok());
  EXPECT_FALSE(NoteSigner::FromPrivateKey(private_key + "AA==", &refused).ok());
}

TEST(SignedNoteTest, VerifierKeysAreChecked) {
  std::unique_ptr<NoteSigner> signer;
  ASSERT_TRUE(NoteSigner::Generate("example.com/log", &signer).ok());
  const std::string vkey = signer->VerifierKey();
  std::unique_ptr<NoteVerifier> verifier;
  ASSERT_TRUE(NoteVerifier::FromVerifierKey(vkey, &verifier).ok());
  EXPECT_EQ(verifier->name(), "example.com/log");
  EXPECT_EQ(verifier->key_id(), signer->key_id());

  std::string wrong_id = vkey;
  wrong_id[16] = wrong_id[16] == '0' ? '1' : '0';
  EXPECT_EQ(NoteVerifier::FromVerifierKey(wrong_id, &verifier).code(), Code::kInvalidArgument);
  const size_t key_start = vkey.find('+', 16) + 1;
  // The second base64 digit holds the type byte's low two bits: "g" (0b100000) makes it 0x02.
  std::string wrong_type = vkey;
  wrong_type[key_start + 1] = 'g';
  EXPECT_EQ(NoteVerifier::FromVerifierKey(wrong_type, &verifier).code(), Code::kInvalidArgument);
  EXPECT_FALSE(NoteVerifier::FromVerifierKey("example.com/log+00000000", &verifier).ok());
  EXPECT_FALSE(NoteVerifier::FromVerifierKey(vkey.substr(0, vkey.size() - 4), &verifier).ok());
}

TEST(SignedNoteTest, KeyNamesAndNoteTextsAreValidated) {
  std::unique_ptr<NoteSigner> signer;
  for (const char* bad : {"", "a b", "a+b", "a\tb",
                          "a\xC2\xA0"
                          "b",
                          "a\xE2\x80\x83"
                          "b",
                          "\x01", "\xFF"}) {
    EXPECT_EQ(NoteSigner::Generate(bad, &signer).code(), Code::kInvalidArgument) << bad;
  }
  ASSERT_TRUE(NoteSigner::Generate("example.com/lög", &signer).ok());
  std::string note;
  EXPECT_EQ(signer->SignNote("no newline", &note).code(), Code::kInvalidArgument);
  EXPECT_EQ(signer->SignNote("", &note).code(), Code::kInvalidArgument);
  EXPECT_EQ(signer->SignNote("tab\there\n", &note).code(), Code::kInvalidArgument);
  EXPECT_EQ(signer->SignNote("bad \xC0\xAF utf-8\n", &note).code(), Code::kInvalidArgument);
  // Texts may contain blank lines: the last one separates the signatures.
  ASSERT_TRUE(signer->SignNote("a\n\nb\n\n", &note).ok());
  std::string text;
  ASSERT_TRUE(VerifierFor(*signer)->VerifyNote(note, &text).ok());
  EXPECT_EQ(text, "a\n\nb\n\n");
}

TEST(SignedNoteTest, MalformedNotesAreRejected) {
  std::unique_ptr<NoteSigner> signer;
  ASSERT_TRUE(NoteSigner::Generate("example.com/log", &signer).ok());
  const std::unique_ptr<NoteVerifier> verifier = VerifierFor(*signer);
  const std::string body = Checkpoint8();
  std::string note;
  ASSERT_TRUE(signer->SignNote(body, &note).ok());
  const std::string line = note.substr(body.size() + 1);
  std::string text;
  auto code = [&](const std::string& n) { return verifier->VerifyNote(n, &text).code(); };

  EXPECT_EQ(code(body + line), Code::kInvalidArgument);                      // No blank line.
  EXPECT_EQ(code(note.substr(0, note.size() - 1)), Code::kInvalidArgument);  // No final newline.
  EXPECT_EQ(code(body + "\n"), Code::kInvalidArgument);                      // No signatures.
  EXPECT_EQ(code(note + "\n"), Code::kInvalidArgument);   // Signatures end with a blank line.
  EXPECT_EQ(code("x\r" + note), Code::kInvalidArgument);  // A control character.
  EXPECT_EQ(code(body + "\n- example.com/log " + line.substr(line.rfind(' ') + 1)),
            Code::kInvalidArgument);  // A hyphen, not an em dash.
  EXPECT_EQ(code(note + "\xE2\x80\x94 other AAAA\n"), Code::kInvalidArgument);     // Under 5 bytes.
  EXPECT_EQ(code(note + "\xE2\x80\x94 other AAAAAA=\n"), Code::kInvalidArgument);  // Bad base64.
  // Non-canonical base64: the last digit's unused bits set ("=" pads one byte, 2 bits unused).
  std::string loose = note;
  const size_t last_digit = loose.size() - 3;
  ASSERT_EQ(loose[last_digit + 1], '=');
  loose[last_digit] = static_cast<char>(loose[last_digit] + 1);
  EXPECT_EQ(code(loose), Code::kInvalidArgument);

  // At most 100 signatures; unknown ones do count.
  std::string many = note;
  const std::string other = "\xE2\x80\x94 other AAAAAAAA\n";
  for (int i = 0; i < 99; ++i) many += other;
  EXPECT_EQ(code(many), Code::kOk);
  EXPECT_EQ(code(many + other), Code::kInvalidArgument);
}

TEST(SignedNoteTest, CheckpointFormatAndParseFollowTheSpec) {
  const std::string root = Sha256("root");
  Checkpoint checkpoint{"example.com/behind-the-sofa", 20852163, root, {}};
  std::string text;
  ASSERT_TRUE(checkpoint.Format(&text).ok());
  EXPECT_EQ(text, "example.com/behind-the-sofa\n20852163\n" + SpecBase64Encode(root) + "\n");
  Checkpoint parsed;
  ASSERT_TRUE(Checkpoint::Parse(text, &parsed).ok());
  EXPECT_EQ(parsed.origin, checkpoint.origin);
  EXPECT_EQ(parsed.size, checkpoint.size);
  EXPECT_EQ(parsed.root, root);
  EXPECT_TRUE(parsed.extensions.empty());

  checkpoint.extensions = {"ext one", "ext two"};
  ASSERT_TRUE(checkpoint.Format(&text).ok());
  ASSERT_TRUE(Checkpoint::Parse(text, &parsed).ok());
  EXPECT_EQ(parsed.extensions, checkpoint.extensions);

  Checkpoint empty_tree{"o", 0, EmptyRoot(), {}};
  ASSERT_TRUE(empty_tree.Format(&text).ok());
  ASSERT_TRUE(Checkpoint::Parse(text, &parsed).ok());
  EXPECT_EQ(parsed.size, 0u);

  const std::string b64 = SpecBase64Encode(root);
  for (const std::string& bad : std::vector<std::string>{
           "o\n1\n" + b64,                               // No final newline.
           "o\n1\n",                                     // No root.
           "\n1\n" + b64 + "\n",                         // Empty origin.
           "o\n01\n" + b64 + "\n",                       // Leading zero.
           "o\n-1\n" + b64 + "\n",                       // Not a number.
           "o\n18446744073709551616\n" + b64 + "\n",     // 2^64.
           "o\n1\n" + SpecBase64Encode("short") + "\n",  // Not 32 bytes.
           "o\n1\n" + b64.substr(0, 43) + "\n",          // Unpadded.
           "o\n1\n" + b64 + "\n\n",                      // Empty extension line.
       }) {
    EXPECT_EQ(Checkpoint::Parse(bad, &parsed).code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(Checkpoint::Parse("o\n18446744073709551615\n" + b64 + "\n", &parsed).ok());
  EXPECT_EQ(parsed.size, 18446744073709551615u);

  EXPECT_FALSE((Checkpoint{"", 1, root, {}}.Format(&text).ok()));
  EXPECT_FALSE((Checkpoint{"a\nb", 1, root, {}}.Format(&text).ok()));
  EXPECT_FALSE((Checkpoint{"o", 1, "short", {}}.Format(&text).ok()));
  EXPECT_FALSE((Checkpoint{"o", 1, root, {""}}.Format(&text).ok()));
}

}  // namespace
}  // namespace infoflyt::merkle
