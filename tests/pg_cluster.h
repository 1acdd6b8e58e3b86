// A throwaway PostgreSQL server for tests: initdb into a temporary directory, the server as a
// child process on a free loopback port with fsync off, a fresh database per test, everything
// stopped and removed when the cluster is destroyed. PostgreSQL refuses to run as root, so when
// the tests do, the server runs as the `postgres` system user (or `nobody`).
//
// The binaries are found in $INFOFLYT_PG_BINDIR, else the newest /usr/lib/postgresql/*/bin
// (Debian), else $PATH. If they are missing, status() says so: callers fail, not skip.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

#include "base/status.h"

namespace infoflyt::testing {

class PgCluster {
 public:
  // The cluster of this test process, started on first use and stopped at exit. A failed start
  // is not retried: every later call sees the same status.
  static PgCluster& Shared();

  // `durable`: fsync and full-page writes on, as in production (for benchmarks); off by
  // default, which tests do not need and which makes them faster.
  explicit PgCluster(bool durable = false) : durable_(durable) {}
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  Status Start();
  const Status& status() const { return status_; }

  // Creates an empty database, named uniquely in this cluster.
  Status CreateDatabase(std::string* name);
  // The conninfo of database `name` ("postgres" always exists), as `user` (by default the
  // superuser; the server trusts every local connection).
  std::string ConnInfo(const std::string& name, const std::string& user = "infoflyt") const;
  // Runs the SQL script `file` with psql as the superuser, starting in database `name`;
  // psql's output is in `output`.
  Status Psql(const std::string& name, const std::string& file, std::string* output);

  // Stops the server (fast shutdown: sessions are ended, committed data is kept), and starts it
  // again on the same port and data directory.
  Status StopServer();
  Status RestartServer();

  // How long initdb and the server's start took, in milliseconds.
  double initdb_ms() const { return initdb_ms_; }
  double start_ms() const { return start_ms_; }

 private:
  // One attempt to start the server on `port`; UNAVAILABLE if the port was taken meanwhile.
  Status StartServer(int port);
  void Stop();

  const bool durable_ = false;
  Status status_{Code::kUnavailable, "postgres test cluster not started"};
  std::filesystem::path bindir_;
  std::filesystem::path dir_;  // Owned by the server's user: data/ and the server's log.
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  pid_t server_ = -1;
  int port_ = 0;
  int databases_ = 0;
  double initdb_ms_ = 0;
  double start_ms_ = 0;
};

}  // namespace infoflyt::testing
