#include "base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

namespace {

// An open file descriptor, closed when it goes.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now, reporting whether the close succeeded.
  bool Close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }

 private:
  int fd_;
};

Status Failed(const std::string& what, const std::string& path) {
  return {Code::kFailedPrecondition, what + " " + path + ": " + std::strerror(errno)};
}

bool WriteAll(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

namespace {

// CreateSecretFile and ReplaceSecretFile: a new owner-only file, then put in place
// (`replace`: renamed over what is there; else linked, only where nothing is), and the
// directory fsynced.
Status WriteSecretFile(const std::string& path, const std::string& bytes, bool replace) {
  const std::string tmp = path + ".new";
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return Failed("cannot create", tmp);
  if (!WriteAll(fd.get(), bytes) || ::fsync(fd.get()) != 0 || !fd.Close()) {
    Status s = Failed("cannot write", tmp);
    ::unlink(tmp.c_str());
    return s;
  }
  // link() fails if `path` exists: a key is never silently replaced.
  if ((replace ? ::rename(tmp.c_str(), path.c_str()) : ::link(tmp.c_str(), path.c_str())) != 0) {
    Status s = Failed(replace ? "cannot replace" : "cannot create", path);
    ::unlink(tmp.c_str());
    return s;
  }
  if (!replace) ::unlink(tmp.c_str());
  const std::string dir = std::filesystem::path(path).parent_path().string();
  if (!SyncFile(dir.empty() ? "." : dir, true).ok())
    return Failed("cannot sync the directory of", path);
  return Status::Ok();
}

}  // namespace

Status SyncFile(const std::string& path, bool directory) {
  Fd fd(::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
    return {Code::kUnavailable, "cannot fsync " + path + ": " + std::strerror(errno)};
  }
  return Status::Ok();
}

Status CreateSecretFile(const std::string& path, const std::string& bytes) {
  return WriteSecretFile(path, bytes, false);
}

Status ReplaceSecretFile(const std::string& path, const std::string& bytes) {
  return WriteSecretFile(path, bytes, true);
}

Status FileExists(const std::string& path, bool* exists) {
  std::error_code ec;
  *exists = std::filesystem::exists(path, ec);
  if (ec)
    return {Code::kFailedPrecondition, "cannot tell whether " + path + " exists: " + ec.message()};
  return Status::Ok();
}

}  // namespace infoflyt
