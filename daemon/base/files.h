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

}  // namespace infoflyt
