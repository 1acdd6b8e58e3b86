#include "store/data_keys.h"

#include <algorithm>

#include "base/aead.h"
#include "base/crypto.h"

namespace infoflyt {
namespace {

// A sealed value: version byte, the key's 8-byte id, then AeadSeal's nonce, ciphertext and tag.
// No serialised protobuf starts with byte 1 (field number 0 does not exist), so a value stored
// in clear before encryption at rest is told apart from a sealed one.
constexpr char kVersion = 1;
constexpr size_t kIdBytes = 8;
constexpr size_t kHeaderBytes = 1 + kIdBytes;

std::string RawId(std::string_view key) {
  return Sha256(std::string("infoflyt data key id v1") + '\0' + std::string(key))
      .substr(0, kIdBytes);
}

// What the seal authenticates besides the value: the column, the owner and the header (so the
// key id cannot be swapped either).
std::string Associated(std::string_view column, std::string_view owner, std::string_view header) {
  std::string a(column);
  a += '\0';
  a += owner;
  a += '\0';
  a += header;
  return a;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

DataKeys::Key DataKeys::MakeKey(std::string bytes) {
  return {ToHex(RawId(bytes)), std::move(bytes)};
}

Status DataKeys::Parse(std::string_view text, std::shared_ptr<const DataKeys>* out) {
  std::vector<Key> keys;
  size_t line_number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line = Trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    const std::string where = "line " + std::to_string(line_number);
    std::string bytes;
    if (line.size() != 2 * kAeadKeyBytes || !FromHex(line, &bytes)) {
      return {Code::kInvalidArgument, where + ": a data key is 64 hex digits"};
    }
    Key key = MakeKey(std::move(bytes));
    for (const Key& k : keys) {
      if (k.id == key.id)
        return {Code::kInvalidArgument, where + ": key " + k.id + " is there twice"};
    }
    keys.push_back(std::move(key));
  }
  if (keys.empty()) return {Code::kInvalidArgument, "holds no data key"};
  *out = std::shared_ptr<const DataKeys>(new DataKeys(std::move(keys)));
  return Status::Ok();
}

std::string DataKeys::AddKey(std::string_view text, std::string* new_id) {
  std::string out(text);
  if (out.empty()) {
    out =
        "# infoflyt data keys (AES-256-GCM), one per line; the last seals new values. Keep every\n"
        "# line: each opens what it sealed. Never edit by hand; `infoflytd rotate-data-key` "
        "adds.\n";
  } else if (out.back() != '\n') {
    out += '\n';
  }
  const std::string bytes = RandomBytes(kAeadKeyBytes);
  *new_id = ToHex(RawId(bytes));
  out += ToHex(bytes) + "\n";
  return out;
}

std::string DataKeys::SealedUnder(std::string_view sealed) {
  if (sealed.size() < kHeaderBytes + kAeadNonceBytes + kAeadTagBytes || sealed[0] != kVersion) {
    return "";
  }
  return ToHex(sealed.substr(1, kIdBytes));
}

std::string DataKeys::CurrentHeader() const { return kVersion + RawId(keys_.back().bytes); }

std::string DataKeys::Seal(std::string_view column, std::string_view owner,
                           std::string_view plaintext) const {
  const std::string header = CurrentHeader();
  return header + AeadSeal(keys_.back().bytes, plaintext, Associated(column, owner, header));
}

const DataKeys::Key* DataKeys::Find(std::string_view id) const {
  for (const Key& k : keys_) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

Status DataKeys::Open(std::string_view column, std::string_view owner, std::string_view sealed,
                      std::string* plaintext) const {
  const std::string id = SealedUnder(sealed);
  if (id.empty()) return {Code::kDataLoss, std::string(column) + " is not a sealed value"};
  const Key* key = Find(id);
  if (key == nullptr) {
    return {Code::kUnavailable, std::string(column) + " is sealed under data key " + id +
                                    ", which this daemon's data key file lacks"};
  }
  if (Status s = AeadOpen(key->bytes, sealed.substr(kHeaderBytes),
                          Associated(column, owner, sealed.substr(0, kHeaderBytes)), plaintext);
      !s.ok()) {
    return {Code::kDataLoss, std::string(column) + ": " + s.message()};
  }
  return Status::Ok();
}

std::vector<DataKeys::Check> DataKeys::Checks() const {
  std::vector<Check> checks;
  for (const Key& k : keys_)
    checks.push_back({k.id, HmacSha256(k.bytes, "infoflyt data key check v1")});
  return checks;
}

std::vector<DataKeys::Check> ChecksToRecord(const std::vector<DataKeys::Check>& mine,
                                            const std::vector<DataKeys::Check>& recorded) {
  auto is_recorded = [&recorded](const DataKeys::Check& c) {
    return std::find(recorded.begin(), recorded.end(), c) != recorded.end();
  };
  if (!recorded.empty() && std::none_of(mine.begin(), mine.end(), is_recorded)) return {};
  std::vector<DataKeys::Check> out;
  for (const DataKeys::Check& c : mine) {
    if (!is_recorded(c)) out.push_back(c);
  }
  return out;
}

}  // namespace infoflyt
