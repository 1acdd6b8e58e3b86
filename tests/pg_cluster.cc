#include "pg_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

namespace infoflyt::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string ReadLog(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool HasServer(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / "initdb", ec) && fs::exists(dir / "postgres", ec);
}

// Where initdb and postgres are; empty if nowhere.
fs::path FindBindir() {
  if (const char* env = std::getenv("INFOFLYT_PG_BINDIR")) return HasServer(env) ? env : "";
  fs::path best;
  int best_version = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    const int version = std::atoi(name.c_str());
    if (version > best_version && HasServer(entry.path() / "bin")) {
      best_version = version;
      best = entry.path() / "bin";
    }
  }
  if (!best.empty()) return best;
  std::istringstream path(std::getenv("PATH") ? std::getenv("PATH") : "");
  for (std::string dir; std::getline(path, dir, ':');) {
    if (!dir.empty() && HasServer(dir)) return dir;
  }
  return {};
}

// A loopback port nobody was listening on a moment ago.
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// Starts `argv` as `uid`:`gid` with stdout and stderr appended to `log`. A server child also
// dies if the test process does (then nothing is left running, though its directory stays).
pid_t Spawn(const std::vector<std::string>& argv, uid_t uid, gid_t gid, const fs::path& log,
            const fs::path& cwd, bool server) {
  // Everything the child needs is made before fork: after it, only system calls.
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string cwd_str = cwd.string();
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  if (::fchown(fd, uid, gid) != 0) {
    ::close(fd);
    return -1;
  }
  const bool root = ::geteuid() == 0;
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::dup2(fd, 1) < 0 || ::dup2(fd, 2) < 0) ::_exit(126);
    ::close_range(3, ~0U, 0);
    if (root && (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)) {
      ::_exit(126);
    }
    // After setuid: changing credentials clears the parent-death signal.
    if (server) ::prctl(PR_SET_PDEATHSIG, SIGQUIT);
    if (::chdir(cwd_str.c_str()) != 0) ::_exit(126);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(fd);
  return pid;
}

}  // namespace

PgCluster& PgCluster::Shared() {
  // One per process, destroyed at exit; tests run on one thread, so no lock.
  static PgCluster cluster;
  static const bool started = [] {
    if (Status s = cluster.Start(); !s.ok()) {
      std::cerr << "postgres test cluster: " << s.message() << "\n";
    } else {
      std::cerr << "postgres test cluster: initdb " << cluster.initdb_ms() << " ms, server start "
                << cluster.start_ms() << " ms\n";
    }
    return true;
  }();
  (void)started;
  return cluster;
}

PgCluster::~PgCluster() { Stop(); }

Status PgCluster::Start() {
  bindir_ = FindBindir();
  if (bindir_.empty()) {
    return status_ = {Code::kFailedPrecondition,
                      "PostgreSQL server binaries (initdb, postgres) not found: install "
                      "postgresql (.ci/install-deps) or set INFOFLYT_PG_BINDIR"};
  }
  uid_ = ::geteuid();
  gid_ = ::getegid();
  if (uid_ == 0) {
    // The server refuses to run as root.
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) pw = ::getpwnam("nobody");
    if (pw == nullptr) return status_ = {Code::kFailedPrecondition, "no user to run postgres as"};
    uid_ = pw->pw_uid;
    gid_ = pw->pw_gid;
  }
  std::string templ = (fs::temp_directory_path() / "infoflyt-pg-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) {
    return status_ = {Code::kUnavailable, "cannot make a directory for the postgres cluster"};
  }
  dir_ = templ;
  if (::chown(dir_.c_str(), uid_, gid_) != 0) {
    return status_ = {Code::kUnavailable, "cannot give the cluster directory to its user"};
  }

  const Clock::time_point initdb_start = Clock::now();
  const pid_t initdb = Spawn({(bindir_ / "initdb").string(), "-D", (dir_ / "data").string(), "-A",
                              "trust", "-U", "infoflyt", "--no-sync", "-E", "UTF8", "--locale=C"},
                             uid_, gid_, dir_ / "initdb.log", dir_, false);
  int wstatus = 0;
  if (initdb < 0 || ::waitpid(initdb, &wstatus, 0) != initdb || !WIFEXITED(wstatus) ||
      WEXITSTATUS(wstatus) != 0) {
    return status_ = {Code::kUnavailable, "initdb failed: " + ReadLog(dir_ / "initdb.log")};
  }
  initdb_ms_ = MillisSince(initdb_start);

  // Another process may take the free port before the server binds it: then try another.
  const Clock::time_point server_start = Clock::now();
  for (int attempt = 0; attempt < 5; ++attempt) {
    status_ = StartServer(FreePort());
    if (status_.code() != Code::kUnavailable) break;
  }
  start_ms_ = MillisSince(server_start);
  return status_;
}

Status PgCluster::StartServer(int port) {
  if (port == 0) return {Code::kUnavailable, "no free loopback port"};
  port_ = port;
  const fs::path log = dir_ / "server.log";
  const std::string durable = durable_ ? "on" : "off";
  server_ = Spawn({(bindir_ / "postgres").string(), "-D", (dir_ / "data").string(), "-k",
                   dir_.string(), "-p", std::to_string(port), "-c", "listen_addresses=127.0.0.1",
                   "-c", "fsync=" + durable, "-c", "full_page_writes=" + durable},
                  uid_, gid_, log, dir_, true);
  if (server_ < 0) return {Code::kInternal, "cannot start postgres"};
  const std::string ping = ConnInfo("postgres") + " connect_timeout=2";
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    int wstatus = 0;
    if (::waitpid(server_, &wstatus, WNOHANG) == server_) {
      server_ = -1;
      const std::string text = ReadLog(log);
      if (text.find("could not bind") != std::string::npos ||
          text.find("already in use") != std::string::npos) {
        return {Code::kUnavailable, "port taken: " + text};
      }
      return {Code::kInternal, "postgres exited: " + text};
    }
    if (PQping(ping.c_str()) == PQPING_OK) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return {Code::kInternal, "postgres did not accept connections within 60 s: " + ReadLog(log)};
}

Status PgCluster::StopServer() {
  if (server_ <= 0) return {Code::kFailedPrecondition, "postgres is not running"};
  // Fast shutdown; immediate if it takes long.
  ::kill(server_, SIGINT);
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(10);
  int wstatus = 0;
  Status status = Status::Ok();
  while (::waitpid(server_, &wstatus, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(server_, SIGKILL);
      ::waitpid(server_, &wstatus, 0);
      status = {Code::kUnavailable, "postgres did not stop within 10 s: killed"};
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  server_ = -1;
  return status;
}

Status PgCluster::RestartServer() {
  if (!status_.ok()) return status_;
  if (server_ > 0) return {Code::kFailedPrecondition, "postgres is running"};
  return StartServer(port_);
}

void PgCluster::Stop() {
  if (server_ > 0) (void)StopServer();  // Nothing here needs to survive.
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    dir_.clear();
  }
}

std::string PgCluster::ConnInfo(const std::string& name, const std::string& user) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + user + " dbname=" + name;
}

Status PgCluster::Psql(const std::string& name, const std::string& file, std::string* output) {
  if (!status_.ok()) return status_;
  const std::string command = (bindir_ / "psql").string() + " -X -q -v ON_ERROR_STOP=1 '" +
                              ConnInfo(name) + "' -f '" + file + "' 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {Code::kInternal, "cannot run psql"};
  output->clear();
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) output->append(buf, n);
  const int rc = ::pclose(pipe);
  if (rc != 0) return {Code::kInternal, "psql -f " + file + " failed: " + *output};
  return Status::Ok();
}

Status PgCluster::CreateDatabase(std::string* name_out) {
  if (!status_.ok()) return status_;
  // The name is ours, not data: an identifier has no bound form in SQL.
  const std::string name = "test_" + std::to_string(++databases_);
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(ConnInfo("postgres").c_str()),
                                                    &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return {Code::kUnavailable, std::string("cannot connect: ") + PQerrorMessage(conn.get())};
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> result(
      PQexec(conn.get(), ("CREATE DATABASE " + name).c_str()), &PQclear);
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    return {Code::kUnavailable, std::string("CREATE DATABASE: ") + PQerrorMessage(conn.get())};
  }
  *name_out = name;
  return Status::Ok();
}

}  // namespace infoflyt::testing
