// The data keys personal data is sealed with at rest (AES-256-GCM): a ring of keys read from
// one file, the last of which seals new values, while every earlier one still opens what it
// sealed. A sealed value names its key and is bound to what it belongs to (a message's id), so a
// value copied into another message's row does not open.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace infoflyt {

// What a sealed value is: a column, so a value moved to another column does not open either.
inline constexpr std::string_view kEnvelopeColumn = "deliveries.envelope";

class DataKeys {
 public:
  // A key's id and a value anyone may see that only the same key reproduces, as stored.
  struct Check {
    std::string key_id;  // Hex.
    std::string check;   // Raw bytes.
    bool operator==(const Check&) const = default;
  };

  // The ring in a key file's text: one key per line as 64 hex digits, '#' comments and blank
  // lines ignored, the last key current. INVALID_ARGUMENT naming the line if a line is not a key
  // or a key is there twice, or if there is no key.
  static Status Parse(std::string_view text, std::shared_ptr<const DataKeys>* out);
  // The text of a key file holding the keys of `text` (empty for a new file) and then a new
  // random key, which becomes current; `*new_id` is its id.
  static std::string AddKey(std::string_view text, std::string* new_id);
  // The id of the key `sealed` was sealed under; empty if it is not a sealed value at all (e.g.
  // one stored in clear before encryption at rest).
  static std::string SealedUnder(std::string_view sealed);

  // `plaintext` sealed under the current key, bound to `column` and `owner` (e.g. a message id).
  std::string Seal(std::string_view column, std::string_view owner,
                   std::string_view plaintext) const;
  // The plaintext of `sealed`, if it was sealed for `column` and `owner` under a key of the
  // ring. UNAVAILABLE if its key is not in the ring (this daemon lacks a key, e.g. one another
  // daemon rotated to: the value may be fine); DATA_LOSS if it does not open (never showing
  // the value).
  Status Open(std::string_view column, std::string_view owner, std::string_view sealed,
              std::string* plaintext) const;

  const std::string& current_id() const { return keys_.back().id; }
  // The bytes every value sealed under the current key starts with.
  std::string CurrentHeader() const;
  // Every key's check, oldest first.
  std::vector<Check> Checks() const;

 private:
  struct Key {
    std::string id;     // Hex of the 8 bytes that sealed values carry.
    std::string bytes;  // 32.
  };
  explicit DataKeys(std::vector<Key> keys) : keys_(std::move(keys)) {}
  static Key MakeKey(std::string bytes);
  const Key* Find(std::string_view id) const;  // By hex id.

  std::vector<Key> keys_;  // Never empty.
};

// Of the checks of a daemon's ring (`mine`), those a store that records `recorded` is to
// record: every one it lacks if it records none, or if `mine` holds one it records (the same
// ring, rotated); none otherwise: a ring made by another first start is not the store's, and is
// then refused rather than recorded beside the first (Store::RecordDataKeys).
std::vector<DataKeys::Check> ChecksToRecord(const std::vector<DataKeys::Check>& mine,
                                            const std::vector<DataKeys::Check>& recorded);

}  // namespace infoflyt
