#include "integration/daemon_harness.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "test_util.h"
#include "unit/test_envelopes.h"

namespace infoflyt::testing {
namespace {

namespace fs = std::filesystem;

std::string MakeTempDir(const std::string& prefix) {
  std::string templ = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
  if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return templ;
}

void Run(const std::string& command) {
  if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
}

// The value of "key":"value" in the daemon's one-line ready file.
std::string JsonField(const std::string& json, const std::string& key) {
  const std::string marker = "\"" + key + "\":\"";
  const size_t start = json.find(marker);
  if (start == std::string::npos) return "";
  const size_t end = json.find('"', start + marker.size());
  return json.substr(start + marker.size(), end - start - marker.size());
}

TestPki MakePki(const std::string& dir) {
  Run(INFOFLYT_SOURCE_DIR "/tests/integration/make-test-pki.sh " + dir);
  return {dir, dir + "/rogue"};
}

// Removes a directory when the process exits.
struct DirRemover {
  std::string dir;
  ~DirRemover() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
};

}  // namespace

const TestPki& Pki() {
  // ctest makes one PKI for all test processes (see tests/CMakeLists.txt); run by hand, a test
  // binary makes its own and removes it at exit.
  if (const char* shared = std::getenv("INFOFLYT_TEST_PKI"); shared != nullptr && *shared) {
    static const TestPki pki{shared, std::string(shared) + "/rogue"};
    return pki;
  }
  static const TestPki pki = MakePki(MakeTempDir("infoflyt-pki-"));
  static const DirRemover remover{pki.dir};
  return pki;
}

DaemonProcess::DaemonProcess() : dir_(MakeTempDir("infoflytd-")) {
  Pki();
  for (const auto& [from, to] : {std::pair{"parties.toml", parties_path()},
                                 std::pair{"legal-bases.toml", legal_bases_path()},
                                 std::pair{"data/municipalities.csv", municipalities_path()},
                                 std::pair{"data/police-districts.csv", police_districts_path()}}) {
    fs::copy_file(std::string(INFOFLYT_SOURCE_DIR "/deploy/") + from, to);
  }
  fs::copy_file(Pki().dir + "/server.pem", server_cert_path());
  fs::copy_file(Pki().dir + "/server.key", server_key_path());
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) Kill();
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

void DaemonProcess::CopyKeysFrom(const DaemonProcess& other) const {
  for (const auto& [from, to] : {std::pair{other.subject_key_path(), subject_key_path()},
                                 std::pair{other.log_key_path(), log_key_path()},
                                 std::pair{other.data_key_path(), data_key_path()}}) {
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  }
}

bool DaemonProcess::Start() {
  // A restart reuses the port, which another process on this machine may briefly hold (as the
  // local end of an outgoing connection): the daemon then exits at once, and is tried again.
  for (int attempt = 0; attempt < 10; ++attempt) {
    bool exited = false;
    if (StartOnce(&exited)) return true;
    if (port_ == 0 || !exited) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  return false;
}

void DaemonProcess::WriteConfig() const {
  const std::string& pki = Pki().dir;
  {
    std::ofstream config(config_path());
    config << "[server]\nlisten = \"" << listen_host_ << ":" << port_ << "\"\n"
           << "http_listen = \"127.0.0.1:0\"\ninstance = \"test\"\n"
           << server_config_ << "[tls]\ncert = \"" << server_cert_path() << "\"\nkey = \""
           << server_key_path() << "\"\nclient_ca = \""
           << (client_ca_.empty() ? pki + "/ca.pem" : client_ca_)
           << "\"\n"
           // One second unless the test sets its own.
           << (tls_config_.find("refresh_interval") == std::string::npos
                   ? "refresh_interval = \"1s\"\n"
                   : "")
           << tls_config_ << "[store]\n"
           << (store_config_.empty() ? "sqlite_path = \"" + db_path() + "\"\n" : store_config_)
           << "[data]\nmunicipalities = \"" << municipalities_path() << "\"\n"
           << "police_districts = \"" << police_districts_path() << "\"\n"
           << "parties = \"" << parties_path() << "\"\n"
           << "legal_bases = \"" << legal_bases_path() << "\"\n"
           << "[audit]\nsubject_key_file = \"" << subject_key_path() << "\"\n"
           << "[log]\nkey_file = \"" << log_key_path() << "\"\ncheckpoint_interval = \"1s\"\n"
           << extra_config_;
  }
}

bool DaemonProcess::StartOnce(bool* exited) {
  WriteConfig();
  const std::string ready = dir_ + "/ready.json";
  fs::remove(ready);
  std::vector<std::string> args = {binary_, "--config", config_path(), "--ready-file", ready};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;  // Made before fork: the child may only call async-signal-safe code.
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  for (auto& e : environment_) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string log = dir_ + "/daemon.log";
  const pid_t parent = getpid();
  // fork and exec rather than posix_spawn, to set the parent-death signal in the child; only
  // async-signal-safe calls between the two.
  pid_ = fork();
  if (pid_ < 0) {
    Note("cannot fork the daemon");
    return false;
  }
  if (pid_ == 0) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0 || dup2(fd, STDERR_FILENO) < 0) _exit(127);
    if (open_files_limit_ > 0) {
      const rlimit limit{open_files_limit_, open_files_limit_};
      if (setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(127);
    }
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  // Wait for the daemon to say it serves (it writes the ready file last).
  constexpr auto kReadyWithin = std::chrono::seconds(20);
  const auto until = std::chrono::steady_clock::now() + kReadyWithin;
  while (!fs::exists(ready)) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      *exited = true;
      const std::string how = WIFEXITED(status) ? "status " + std::to_string(WEXITSTATUS(status))
                                                : "signal " + std::to_string(WTERMSIG(status));
      Note("infoflytd exited before it was ready, " + how);
      return false;
    }
    if (std::chrono::steady_clock::now() > until) {
      Kill();
      Note("infoflytd was not ready within 20 s; killed it");
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const std::string json = ReadFile(ready);
  address_ = JsonField(json, "grpc");
  http_address_ = JsonField(json, "http");
  const size_t colon = address_.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      std::from_chars(address_.data() + colon + 1, address_.data() + address_.size(), port).ec !=
          std::errc()) {
    Kill();
    Note("unreadable ready file: " + json);
    return false;
  }
  port_ = port;
  address_ = "127.0.0.1:" + std::to_string(port);  // Also where a wildcard listener is reached.
  return true;
}

void DaemonProcess::Note(const std::string& line) const {
  std::ofstream(dir_ + "/daemon.log", std::ios::app) << "harness: " << line << "\n";
}

void DaemonProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int DaemonProcess::Terminate() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  return WaitForExit();
}

int DaemonProcess::WaitForExit() {
  if (pid_ <= 0) return -1;
  int status = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (waitpid(pid_, &status, WNOHANG) != pid_) {
    if (std::chrono::steady_clock::now() > until) {
      Kill();
      Note("infoflytd did not exit within 30 s; killed it");
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void DaemonProcess::Signal(int signal) const {
  if (pid_ > 0) ::kill(pid_, signal);
}

std::string DaemonProcess::Log() const { return ReadFile(dir_ + "/daemon.log"); }

int64_t DaemonProcess::CountRows(const std::string& table) const {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return -1;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  int64_t n = -1;
  if (sqlite3_prepare_v2(db, ("SELECT count(*) FROM " + table).c_str(), -1, &stmt, nullptr) ==
          SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    n = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

client::ClientOptions DaemonProcess::Options(const std::string& party, bool rogue_ca) const {
  const std::string& dir = rogue_ca ? Pki().rogue_dir : Pki().dir;
  client::ClientOptions o;
  o.server = address_;
  o.cert = dir + "/parties/" + party + ".pem";
  o.key = dir + "/parties/" + party + ".key";
  o.ca = Pki().dir + "/ca.pem";
  o.server_name = "localhost";
  o.on_status = [captured = captured_, party](const grpc::Status& status) {
    if (status.ok()) return;
    std::string text = status.error_message();
    for (const auto& v : client::FieldViolationsOf(status)) {
      text += "\n" + v.field + ": " + v.description;
    }
    std::lock_guard lock(captured->mu);
    captured->outputs.push_back({"an error status sent to " + party, std::move(text)});
  };
  return o;
}

std::unique_ptr<client::ExchangeClient> DaemonProcess::Client(const std::string& party) const {
  std::unique_ptr<client::ExchangeClient> client;
  if (!client::ExchangeClient::Connect(Options(party), &client).ok()) {
    throw std::runtime_error("cannot set up client for " + party);
  }
  return client;
}

grpc::Status DaemonProcess::FlagPerson(const std::string& national_id, v1::FlagRecord* flag,
                                       const std::string& party, const std::string& basis) const {
  v1::FlagRequest request;
  request.set_national_id(national_id);
  request.set_reason(v1::FLAG_REASON_RETURNED_FOREIGN_FIGHTER);
  request.set_legal_basis(basis);
  return Client(party)->Flag(request, flag);
}

std::string DaemonProcess::PostReleaseNotice(const std::string& key, grpc::Status* status) const {
  v1::Receipt receipt;
  const grpc::Status s = Client("correctional-oslo-fengsel")->Post(ReleaseNotice(key), &receipt);
  if (status != nullptr) *status = s;
  return s.ok() ? receipt.message_id() : "";
}

CliResult DaemonProcess::RunCaptured(const std::string& command, const std::string& what,
                                     bool disclosed_payload) const {
  std::string err_file;
  {
    std::lock_guard lock(captured_->mu);
    err_file = dir_ + "/stderr-" + std::to_string(captured_->runs++);
  }
  CliResult r{-1, ""};
  // Bounded: a command that hangs (a subscription that never gets its delivery) is killed, and
  // exits 124, rather than holding the test until ctest's timeout.
  // `command` is "[VAR=value ...] program args", which env runs.
  r.exit_code = RunCommand("timeout -k 5 120 env " + command + " 2>" + err_file, &r.out);
  const std::string err = ReadFile(err_file);
  fs::remove(err_file);
  {
    std::lock_guard lock(captured_->mu);
    captured_->outputs.push_back({"stdout of `" + what + "`", r.out, disclosed_payload});
    captured_->outputs.push_back({"stderr of `" + what + "`", err, false});
  }
  r.out += err;
  return r;
}

CliResult DaemonProcess::RunOnce(const std::string& args) const {
  WriteConfig();
  return RunCaptured(INFOFLYTD_PATH " --config " + config_path() + " " + args, "infoflytd " + args,
                     false);
}

CliResult DaemonProcess::Cli(const std::string& party, const std::string& args,
                             const std::string& env) const {
  const auto o = Options(party);
  const std::string cmd = "INFOFLYT_SERVER=" + o.server + " INFOFLYT_CERT=" + o.cert +
                          " INFOFLYT_KEY=" + o.key + " INFOFLYT_CA=" + o.ca +
                          " INFOFLYT_SERVER_NAME=localhost " + env + " " INFOFLYT_CLI_PATH " " +
                          args;
  // Only `subscribe` prints message bodies, with the identity numbers disclosed to the party.
  const bool prints_deliveries = args.find("subscribe") != std::string::npos;
  return RunCaptured(cmd, "infoflyt " + args, prints_deliveries);
}

std::string DaemonProcess::Metrics() const {
  if (http_address_.empty()) return "";
  std::string body;
  return RunCommand("curl -sf --max-time 5 http://" + http_address_ + "/metrics", &body) == 0 ? body
                                                                                              : "";
}

std::string DaemonProcess::Healthz(int* status) const {
  *status = 0;
  std::string out;
  if (http_address_.empty() ||
      RunCommand("curl -s --max-time 5 -w '\\n%{http_code}' http://" + http_address_ + "/healthz",
                 &out) != 0) {
    return "";
  }
  const size_t last = out.rfind('\n');
  *status = std::atoi(out.c_str() + last + 1);
  return out.substr(0, last);
}

std::vector<CapturedOutput> DaemonProcess::TakeOutputs() {
  std::vector<CapturedOutput> out;
  {
    std::lock_guard lock(captured_->mu);
    out.swap(captured_->outputs);
  }
  const std::string log = Log();
  if (log.size() > log_taken_) {
    out.push_back({"the daemon's log", log.substr(log_taken_)});
    log_taken_ = log.size();
  }
  if (running()) out.push_back({"/metrics", Metrics()});
  return out;
}

}  // namespace infoflyt::testing
