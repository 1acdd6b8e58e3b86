// Small helpers shared by tests and benchmarks.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace infoflyt::testing {

// The whole file, or "" if it cannot be read.
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A file of the source tree, e.g. "deploy/parties.toml".
inline std::string ReadSourceFile(const std::string& relative) {
  return ReadFile(std::string(INFOFLYT_SOURCE_DIR) + "/" + relative);
}

}  // namespace infoflyt::testing
