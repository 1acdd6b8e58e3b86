// Whole-file reads and crash-safe replacement, for the daemon's small files (keys, ready file,
// the TLS trust it publishes).
#pragma once

#include <string>

#include "base/status.h"

namespace infoflyt {

// The whole file; FAILED_PRECONDITION naming `path` if it cannot be read.
Status ReadFile(const std::string& path, std::string* out);

// Writes `bytes` to `path` through a temporary file and a rename, so a crash (or a reader)
// sees either the old file or the new one; `secret` makes it readable by the owner only.
// FAILED_PRECONDITION naming the file on failure.
Status WriteFileAtomically(const std::string& path, const std::string& bytes, bool secret);

// Creates `path` holding `bytes`, for a key: readable by its owner only from the first byte (a
// new temporary file opened O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600), durable (the file and then
// its directory fsynced), and never replacing a file (linked into place only if `path` does
// not exist). FAILED_PRECONDITION naming the file otherwise; nothing is left behind.
Status CreateSecretFile(const std::string& path, const std::string& bytes);

// As CreateSecretFile, but renamed over `path` if it exists: for a key file an operator's
// command changes on purpose (e.g. adding a key to a ring), never for a key made anew.
Status ReplaceSecretFile(const std::string& path, const std::string& bytes);

// fsyncs the file (or, if `directory`, the directory) `path`; UNAVAILABLE naming it if not.
Status SyncFile(const std::string& path, bool directory);

// Whether `path` exists; FAILED_PRECONDITION naming it if that cannot be told (e.g. a
// directory on the way may not be searched). Never throws.
Status FileExists(const std::string& path, bool* exists);

}  // namespace infoflyt
