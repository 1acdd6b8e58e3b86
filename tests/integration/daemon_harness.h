// Runs the real infoflytd binary for integration tests and benchmarks: a development PKI made
// by certs/make-dev-pki.sh, a fresh state directory, the daemon as a child process on a
// loopback port, and mTLS clients for any party.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

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
  std::string out;  // stdout, then stderr.
};

// One piece of text a test made the daemon or the CLI print, for the identity-number guard.
struct CapturedOutput {
  std::string where;  // e.g. "stderr of `infoflyt post release ...`".
  std::string text;
  bool disclosed_payload = false;  // `infoflyt subscribe`'s stdout: what was disclosed to it.
};

// Outputs captured for the guard, shared with the status observers of the daemon's clients
// (which may outlive it).
struct CapturedOutputs {
  std::mutex mu;
  std::vector<CapturedOutput> outputs;
  int runs = 0;  // Names each CLI run's stderr file.
};

class DaemonProcess {
 public:
  DaemonProcess();
  ~DaemonProcess();  // Kills the daemon if running and removes the state directory.
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // TOML appended to the generated configuration at each start, e.g. short deadlines.
  void set_extra_config(std::string toml) { extra_config_ = std::move(toml); }
  // More keys for the [server] section, e.g. a maximum connection age.
  void set_server_config(std::string toml) { server_config_ = std::move(toml); }
  // The client CA bundle in place of the test PKI's CA (e.g. it and another root).
  void set_client_ca(std::string path) { client_ca_ = std::move(path); }
  // More keys for the [tls] section, e.g. a CRL directory.
  void set_tls_config(std::string toml) { tls_config_ = std::move(toml); }
  // An environment variable ("NAME=value") for the daemon, besides this process's own.
  void add_environment(std::string entry) { environment_.push_back(std::move(entry)); }
  // The gRPC listener's host in place of 127.0.0.1, e.g. 0.0.0.0; address() stays loopback.
  void set_listen_host(std::string host) { listen_host_ = std::move(host); }
  // The daemon's RLIMIT_NOFILE (soft and hard), e.g. low for a flood test; 0 leaves it.
  void set_open_files_limit(rlim_t limit) { open_files_limit_ = limit; }
  // The [store] section's keys in place of the SQLite file, e.g. a PostgreSQL backend.
  // Another infoflytd build to run instead of this tree's (e.g. to compare before and after a
  // change in one benchmark run).
  void set_binary(const std::string& path) { binary_ = path; }
  void set_store_config(std::string toml) { store_config_ = std::move(toml); }

  // Copies `other`'s subject key and log key (made at its first start) into this daemon's
  // state directory: daemons sharing a database must share them.
  void CopyKeysFrom(const DaemonProcess& other) const;

  // Starts the daemon and waits (at most 20 s) until it serves. A restart reuses the first
  // start's port. Returns false if it does not come up, with the reason appended to Log(); a
  // daemon that never became ready is killed. The daemon is killed too if the thread that
  // started it exits (PR_SET_PDEATHSIG), so a test process that dies leaves no daemon behind.
  bool Start();
  // Runs infoflytd to completion with this daemon's configuration and `args` (e.g.
  // "--migrate-only"), as a one-off command rather than the serving daemon.
  CliResult RunOnce(const std::string& args) const;
  void Kill();  // SIGKILL, then reap.
  // SIGTERM, then reap; returns the exit status, or -1 (and kills it) if the daemon has not
  // exited within 30 s.
  int Terminate();
  // Waits (at most 30 s, then kills it) for the daemon to exit after a signal; as Terminate.
  int WaitForExit();
  void Signal(int signal) const;
  bool running() const { return pid_ > 0; }

  const std::string& address() const { return address_; }
  const std::string& http_address() const { return http_address_; }
  std::string db_path() const { return dir_ + "/infoflyt.db"; }
  // The log's signing key; its verifier key is in log_key_path() + ".pub".
  std::string log_key_path() const { return dir_ + "/log.key"; }
  std::string subject_key_path() const { return dir_ + "/subject.key"; }
  // The data keys (store.data_key_file's default: beside the subject key).
  std::string data_key_path() const { return dir_ + "/data.key"; }
  // The daemon's own copies of deploy/parties.toml, legal-bases.toml and data/*.csv, for
  // tests that edit them and send SIGHUP.
  std::string parties_path() const { return dir_ + "/parties.toml"; }
  // The daemon's own copy of the test PKI's server certificate and key, re-read every second
  // (tls.refresh_interval), for tests that renew them.
  std::string server_cert_path() const { return dir_ + "/server.pem"; }
  std::string server_key_path() const { return dir_ + "/server.key"; }
  std::string legal_bases_path() const { return dir_ + "/legal-bases.toml"; }
  std::string municipalities_path() const { return dir_ + "/municipalities.csv"; }
  std::string police_districts_path() const { return dir_ + "/police-districts.csv"; }
  std::string Log() const;  // Everything the daemon wrote to stderr, and the harness's notes.
  // GET /metrics on the ops port; "" if it cannot be fetched.
  std::string Metrics() const;
  // GET /healthz: its body, and its HTTP status in `status` (0 if it cannot be fetched).
  std::string Healthz(int* status) const;
  int64_t CountRows(const std::string& table) const;
  // Everything printed since the last call: the daemon's log, every CLI run's stdout and
  // stderr, every RunOnce's output and every error status sent to a client made from
  // Options(); and /metrics now, if the daemon runs ("" if it cannot be read).
  std::vector<CapturedOutput> TakeOutputs();

  // Client options for a party, by certificate name "<kind>-<id>", e.g. "police-oslo". Every
  // error status the daemon sends such a client (message and field violations) is captured
  // for TakeOutputs.
  client::ClientOptions Options(const std::string& party, bool rogue_ca = false) const;
  std::unique_ptr<client::ExchangeClient> Client(const std::string& party) const;
  // `party` flags the person as a returned foreign fighter, citing `basis`.
  grpc::Status FlagPerson(const std::string& national_id, v1::FlagRecord* flag,
                          const std::string& party = "pst-pst",
                          const std::string& basis = "polregl-27-2") const;
  // The prison oslo-fengsel posts a release notice (unit/test_envelopes.h) with idempotency key
  // `key`; its message id, or "" if the post failed (`status` says why, if given).
  std::string PostReleaseNotice(const std::string& key, grpc::Status* status = nullptr) const;
  // Runs the infoflyt CLI as `party` against this daemon, with `env` (VAR=value ...) added.
  CliResult Cli(const std::string& party, const std::string& args,
                const std::string& env = "") const;

 private:
  // One attempt; `exited`: the daemon exited by itself (e.g. its port was briefly taken).
  bool StartOnce(bool* exited);
  void WriteConfig() const;
  void Note(const std::string& line) const;  // Appends a harness line to the daemon's log.
  // Runs "[VAR=value ...] program args" (killed after 120 s: exit 124); stdout and stderr are
  // captured for the guard.
  CliResult RunCaptured(const std::string& command, const std::string& what,
                        bool disclosed_payload) const;
  std::string config_path() const { return dir_ + "/infoflytd.toml"; }

  std::string dir_;
  std::string extra_config_;
  std::string tls_config_;
  std::string client_ca_;
  std::string server_config_;
  std::string store_config_;
  std::string binary_ = INFOFLYTD_PATH;
  std::string listen_host_ = "127.0.0.1";
  std::vector<std::string> environment_;
  rlim_t open_files_limit_ = 0;
  std::string address_;
  std::string http_address_;
  int port_ = 0;
  pid_t pid_ = -1;
  size_t log_taken_ = 0;  // How much of the log TakeOutputs has returned.
  std::shared_ptr<CapturedOutputs> captured_ = std::make_shared<CapturedOutputs>();
};

}  // namespace infoflyt::testing
