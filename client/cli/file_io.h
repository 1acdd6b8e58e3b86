// The files the CLI reads and writes (notes, keys, exports, evidence), byte for byte.
#pragma once

#include <string>

namespace infoflyt::cli {

bool ReadFile(const std::string& path, std::string* out);
// A key file (note verifier-key format): its one line, without surrounding whitespace.
bool ReadKeyFile(const std::string& path, std::string* key);
// Writes exactly `bytes` (a note must stay byte for byte what was signed), through a temporary
// file renamed into place, so a reader never sees half of it.
bool WriteFile(const std::string& path, const std::string& bytes);

}  // namespace infoflyt::cli
