// A tmpfs of its own, small enough for a test to fill (a full disk), mounted until destroyed.
// Mounting needs root, as CI has.
#pragma once

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

namespace infoflyt::testing {

class SmallTmpfs {
 public:
  // Makes `dir` and mounts a tmpfs of `size` (e.g. "2m") on it; error() says why not.
  SmallTmpfs(std::string dir, const std::string& size) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
    if (mount("tmpfs", dir_.c_str(), "tmpfs", 0, ("size=" + size).c_str()) != 0) {
      error_ = "mounting a small tmpfs (needs root): " + std::string(std::strerror(errno));
    }
  }
  ~SmallTmpfs() {
    if (error_.empty()) umount2(dir_.c_str(), MNT_DETACH);
  }
  SmallTmpfs(const SmallTmpfs&) = delete;
  SmallTmpfs& operator=(const SmallTmpfs&) = delete;

  const std::string& error() const { return error_; }  // Empty once mounted.
  const std::string& dir() const { return dir_; }
  // Makes room (frees the disk): the same tmpfs, now of `size`.
  bool Resize(const std::string& size) const {
    return mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT, ("size=" + size).c_str()) == 0;
  }

 private:
  std::string dir_;
  std::string error_;
};

}  // namespace infoflyt::testing
