#include "ops/data_key_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "base/clock.h"
#include "base/files.h"
#include "base/log.h"

namespace infoflyt {
namespace {

Status ParseRing(const std::string& path, const std::string& text,
                 std::shared_ptr<const DataKeys>* keys) {
  if (Status s = DataKeys::Parse(text, keys); !s.ok()) {
    return {Code::kFailedPrecondition, path + ": " + s.message()};
  }
  return Status::Ok();
}

// Every key the store recorded must be in the ring as recorded: values sealed under a missing
// one could never be read again.
Status CheckRecorded(const std::string& path, const DataKeys& keys,
                     const std::vector<DataKeys::Check>& recorded, const std::string& hint) {
  const std::vector<DataKeys::Check> mine = keys.Checks();
  for (const DataKeys::Check& r : recorded) {
    auto same_id = [&](const DataKeys::Check& c) { return c.key_id == r.key_id; };
    auto it = std::find_if(mine.begin(), mine.end(), same_id);
    if (it == mine.end()) {
      return {Code::kFailedPrecondition, "store.data_key_file " + path + " lacks data key " +
                                             r.key_id +
                                             ", which the store's message bodies "
                                             "may be sealed under" +
                                             hint};
    }
    if (it->check != r.check) {
      return {Code::kFailedPrecondition, "store.data_key_file " + path + ": data key " + r.key_id +
                                             " differs from the one the store "
                                             "recorded" +
                                             hint};
    }
  }
  return Status::Ok();
}

}  // namespace

Status LoadDataKeyFile(const std::string& path, Store& store, const std::string& restore_hint,
                       LoadedDataKeys* out) {
  std::vector<DataKeys::Check> recorded;
  if (Status s = store.RecordDataKeys({}, NowMicros(), &recorded); !s.ok()) return s;
  bool exists = false;
  if (Status s = FileExists(path, &exists); !s.ok()) return s;
  std::string text;
  if (exists) {
    if (Status s = ReadFile(path, &text); !s.ok()) return s;
  } else if (!recorded.empty()) {
    return {Code::kFailedPrecondition,
            "store.data_key_file " + path +
                " (the data key, which opens the stored message bodies) is missing, but the "
                "store holds bodies sealed with it" +
                restore_hint +
                ". A new key would leave every stored body unreadable (refusing "
                "to create one)"};
  } else {
    std::string id;
    text = DataKeys::AddKey("", &id);
    if (Status s = CreateSecretFile(path, text); !s.ok()) return s;
    LogInfo("created data key file " + path + " key_id=" + id);
  }
  if (Status s = ParseRing(path, text, &out->keys); !s.ok()) return s;
  if (Status s = CheckRecorded(path, *out->keys, recorded, restore_hint); !s.ok()) return s;
  out->first = recorded.empty();
  return Status::Ok();
}

Status RecordDataKeyFile(const std::string& path, const DataKeys& keys, Store& store,
                         const std::string& restore_hint) {
  // Recorded, then checked again: another daemon on the same database may have recorded a key
  // of its own in between.
  std::vector<DataKeys::Check> after;
  if (Status s = store.RecordDataKeys(keys.Checks(), NowMicros(), &after); !s.ok()) return s;
  return CheckRecorded(path, keys, after, restore_hint);
}

Status RotateDataKeyFile(const std::string& path, std::string* new_id) {
  std::string text;
  if (Status s = ReadFile(path, &text); !s.ok()) return s;
  std::shared_ptr<const DataKeys> keys;
  if (Status s = ParseRing(path, text, &keys); !s.ok()) return s;
  struct stat old_file {};
  if (::stat(path.c_str(), &old_file) != 0) {
    return {Code::kFailedPrecondition, "cannot stat " + path + ": " + std::strerror(errno)};
  }
  if (Status s = ReplaceSecretFile(path, DataKeys::AddKey(text, new_id)); !s.ok()) return s;
  // Run as root for a daemon running as its own user: the daemon must still read it.
  if (::chown(path.c_str(), old_file.st_uid, old_file.st_gid) != 0) {
    return {Code::kFailedPrecondition,
            "cannot give " + path + " back to its owner: " + std::strerror(errno)};
  }
  return Status::Ok();
}

}  // namespace infoflyt
