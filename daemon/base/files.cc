#include "base/files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace infoflyt {

Status ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {Code::kFailedPrecondition, "cannot read " + path};
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return Status::Ok();
}

Status WriteFileAtomically(const std::string& path, const std::string& bytes, bool secret) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) return {Code::kFailedPrecondition, "cannot write " + tmp};
  }
  std::error_code ec;
  if (secret) {
    std::filesystem::permissions(
        tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  }
  if (!ec) std::filesystem::rename(tmp, path, ec);
  if (ec) return {Code::kFailedPrecondition, "cannot write " + path + ": " + ec.message()};
  return Status::Ok();
}

}  // namespace infoflyt
