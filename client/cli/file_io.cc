#include "file_io.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace infoflyt::cli {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return !in.bad();
}

bool ReadKeyFile(const std::string& path, std::string* key) {
  std::string text;
  if (!ReadFile(path, &text)) return false;
  const char* kSpace = " \t\r\n";
  const size_t begin = text.find_first_not_of(kSpace);
  *key = begin == std::string::npos ? ""
                                    : text.substr(begin, text.find_last_not_of(kSpace) - begin + 1);
  return true;
}

bool WriteFile(const std::string& path, const std::string& bytes) {
  const std::string partial = path + ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out << bytes;
    out.close();
    if (!out) {
      std::remove(partial.c_str());
      return false;
    }
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    std::remove(partial.c_str());
    return false;
  }
  return true;
}

}  // namespace infoflyt::cli
