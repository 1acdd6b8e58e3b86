// The data key file (store.data_key_file): the ring of keys envelopes are sealed with, made on
// the first start of a store that records none, checked against the keys the store recorded,
// and given a new current key by `infoflytd rotate-data-key`.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "store/data_keys.h"
#include "store/store.h"

namespace infoflyt {

struct LoadedDataKeys {
  std::shared_ptr<const DataKeys> keys;
  // The store records no data key yet: envelopes stored by a version before encryption at rest
  // (if any) are in clear and must be sealed before anything is served, and the keys recorded
  // (RecordDataKeyFile) only then.
  bool first = false;
};

// The ring in `path`, made (0600, never replacing a file) if there is none and `store` records
// no data key. FAILED_PRECONDITION naming the file if it is missing or lacks or differs from a
// key the store recorded (`restore_hint` says from where to restore it).
Status LoadDataKeyFile(const std::string& path, Store& store, const std::string& restore_hint,
                       LoadedDataKeys* out);
// Records the keys of `keys` (from `path`) in `store`, then checks them against all the store
// records, as LoadDataKeyFile does. After bodies in clear were sealed: until then a restart
// must still find the first start's work to do.
Status RecordDataKeyFile(const std::string& path, const DataKeys& keys, Store& store,
                         const std::string& restore_hint);

// Adds a new current key to the ring in `path` (which must exist), keeping every key in it:
// written to a new file and renamed into place, owner-only. `new_id` is the new key's id.
Status RotateDataKeyFile(const std::string& path, std::string* new_id);

}  // namespace infoflyt
