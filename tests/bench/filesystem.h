// Which file system a benchmark's data lives on. fsync on tmpfs (or ramfs) is free, so a
// durability figure measured there means nothing: the benchmarks say where they write and
// refuse a memory file system unless told.
#pragma once

#include <linux/magic.h>
#include <sys/vfs.h>

#include <cstdio>
#include <string>

namespace infoflyt::bench {

// The file system `path` is on, named from statfs(2)'s f_type (the kernel's magic numbers;
// no library maps them), or "unknown (0x...)".
inline std::string FileSystemType(const std::string& path) {
  struct statfs s {};
  if (statfs(path.c_str(), &s) != 0) return "unknown (statfs failed)";
  switch (static_cast<unsigned long>(s.f_type)) {
    case EXT4_SUPER_MAGIC:
      return "ext2/3/4";
    case XFS_SUPER_MAGIC:
      return "xfs";
    case BTRFS_SUPER_MAGIC:
      return "btrfs";
    case TMPFS_MAGIC:
      return "tmpfs";
    case RAMFS_MAGIC:
      return "ramfs";
    case OVERLAYFS_SUPER_MAGIC:
      return "overlayfs";
    case NFS_SUPER_MAGIC:
      return "nfs";
    case F2FS_SUPER_MAGIC:
      return "f2fs";
    default: {
      char hex[32];
      std::snprintf(hex, sizeof hex, "unknown (0x%lx)", static_cast<unsigned long>(s.f_type));
      return hex;
    }
  }
}

// Prints where the benchmark writes and on what; false (having said why) if that is memory
// and `allow_memory` is not set.
inline bool ReportDataFileSystem(const std::string& what, const std::string& path,
                                 bool allow_memory) {
  const std::string type = FileSystemType(path);
  std::printf("%s: %s on %s\n", what.c_str(), path.c_str(), type.c_str());
  if ((type == "tmpfs" || type == "ramfs") && !allow_memory) {
    std::fprintf(stderr,
                 "%s is on %s, where fsync costs nothing: the figures would not be of a durable "
                 "store. Use a directory on disk (TMPDIR=... for exchange_bench, --dir for "
                 "log_bench), or --allow-tmpfs to measure anyway.\n",
                 path.c_str(), type.c_str());
    return false;
  }
  return true;
}

}  // namespace infoflyt::bench
