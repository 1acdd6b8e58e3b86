// Runs the real infoflytd binary for integration tests and benchmarks: a development PKI made
// by certs/make-dev-pki.sh, a fresh state directory, the daemon as a child process on a
// loopback port, and mTLS clients for any party.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "infoflyt_client.h"

namespace infoflyt::testing {

// Made once per process in a temporary directory: the dev CA with one certificate per party in
// deploy/parties.toml plus the unregistered party police/ghost, and an unrelated "rogue" CA with
// the same parties.
struct TestPki {
  std::string dir;
  std::string rogue_dir;
};
const TestPki& Pki();

// What a run of the infoflyt CLI printed and how it exited.
struct CliResult {
  int exit_code;
  std::string out;  // stdout and stderr together.
};

class DaemonProcess {
 public:
  DaemonProcess();
  ~DaemonProcess();  // Kills the daemon if running and removes the state directory.
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // TOML appended to the generated configuration at each start, e.g. short deadlines.
  void set_extra_config(std::string toml) { extra_config_ = std::move(toml); }
  // The [store] section's keys in place of the SQLite file, e.g. a PostgreSQL backend.
  void set_store_config(std::string toml) { store_config_ = std::move(toml); }

  // Copies `other`'s subject key and log key (made at its first start) into this daemon's
  // state directory: daemons sharing a database must share them.
  void CopyKeysFrom(const DaemonProcess& other) const;

  // Starts the daemon and waits until it serves. A restart reuses the first start's port.
  // Returns false (and leaves the log) if it does not come up.
  bool Start();
  // Runs infoflytd to completion with this daemon's configuration and `args` (e.g.
  // "--migrate-only"), as a one-off command rather than the serving daemon.
  CliResult RunOnce(const std::string& args) const;
  void Kill();      // SIGKILL, then reap.
  int Terminate();  // SIGTERM, then reap; returns the exit status.
  void Signal(int signal) const;
  bool running() const { return pid_ > 0; }

  const std::string& address() const { return address_; }
  const std::string& http_address() const { return http_address_; }
  std::string db_path() const { return dir_ + "/infoflyt.db"; }
  // The log's signing key; its verifier key is in log_key_path() + ".pub".
  std::string log_key_path() const { return dir_ + "/log.key"; }
  std::string subject_key_path() const { return dir_ + "/subject.key"; }
  // The daemon's own copy of deploy/parties.toml, for tests that edit it and send SIGHUP.
  std::string parties_path() const { return dir_ + "/parties.toml"; }
  std::string Log() const;  // Everything the daemon wrote to stderr.
  int64_t CountRows(const std::string& table) const;

  // Client options for a party, by certificate name "<kind>-<id>", e.g. "police-oslo".
  client::ClientOptions Options(const std::string& party, bool rogue_ca = false) const;
  std::unique_ptr<client::ExchangeClient> Client(const std::string& party) const;
  // Runs the infoflyt CLI as `party` against this daemon, with `env` (VAR=value ...) added.
  CliResult Cli(const std::string& party, const std::string& args,
                const std::string& env = "") const;

 private:
  bool StartOnce();
  void WriteConfig() const;
  std::string config_path() const { return dir_ + "/infoflytd.toml"; }

  std::string dir_;
  std::string extra_config_;
  std::string store_config_;
  std::string address_;
  std::string http_address_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace infoflyt::testing
