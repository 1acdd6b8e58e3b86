#include "ops/daemon.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <grpcpp/server_builder.h>
#include <prometheus/text_serializer.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <asio/post.hpp>
#include <csignal>
#include <filesystem>
#include <future>
#include <limits>
#include <sstream>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/files.h"
#include "base/log.h"
#include "ops/data_key_file.h"
#include "ops/listener_probe.h"
#include "ops/tls_expiry.h"
#include "server/log_scrub.h"
#include "store/pg_store.h"
#include "store/sqlite_store.h"
#include "web/audit_pages.h"
#include "web/flag_pages.h"
#include "web/home_page.h"
#include "web/inbox_pages.h"
#include "web/log_pages.h"
#include "web/post_pages.h"
#include "web/statistics_page.h"

namespace infoflyt {
namespace {

constexpr size_t kSubjectKeyBytes = 32;
constexpr auto kProbeTimeout = std::chrono::seconds(5);
// Descriptors the daemon needs besides its gRPC connections: store, ops port, files, pipes.
constexpr rlim_t kReservedOpenFiles = 1024;
constexpr int kIoThreads = 2;

// " name=value" for each setting the store's durability rests on, as the store read it back.
std::string DurabilityText(const Store& store) {
  std::string text;
  for (const DurabilitySetting& s : store.durability()) text += " " + s.name + "=" + s.value;
  return text;
}

std::string HostName() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

void LogOpenFilesLimit(const Config& config) {
  // Checked, not raised: under the systemd unit, setrlimit is outside the syscall filter, and
  // the limit is the unit's LimitNOFILE.
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  const std::string text = "open files limit " + std::to_string(limit.rlim_cur) + " (hard " +
                           std::to_string(limit.rlim_max) + ")";
  const rlim_t wanted = config.max_connections + kReservedOpenFiles;
  if (limit.rlim_cur < wanted) {
    LogWarning(text + ": below server.max_connections (" + std::to_string(config.max_connections) +
               ") + " + std::to_string(kReservedOpenFiles) +
               ", so a flood of connections can exhaust it; raise LimitNOFILE or lower "
               "server.max_connections");
  } else {
    LogInfo(text + ", connections capped at " + std::to_string(config.max_connections) + " (" +
            std::to_string(config.max_connections_per_source) +
            " per source) by the rules of `infoflytd --print-connection-limits`");
  }
}

}  // namespace

Daemon::Daemon(Config config)
    : config_(std::move(config)), work_(asio::make_work_guard(io_)), signals_(io_) {
  if (config_.instance.empty()) config_.instance = HostName();
}

Daemon::~Daemon() {
  if (web_) web_->Stop();
  listener_watch_.reset();
  scrub_timer_.reset();
  if (purger_) purger_->Stop();  // A pass ends after its batch, not at its end.
  purge_timer_.reset();          // Before the committer it submits to.
  trust_.reset();     // Its thread calls OnTrustChecked, which uses members destroyed before it.
  listener_.reset();  // No more wake-ups from other daemons.
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (http_) asio::post(io_, [this] { http_->Close(); });
  if (log_publisher_) asio::post(io_, [this] { log_publisher_->Stop(); });
  signals_.cancel();
  work_.reset();
  io_.stop();
  for (auto& t : io_threads_) t.join();
  // The server is down; what is still queued (the escalator's timer, a stream's wake-up) has
  // nobody left to answer.
  store_reads_.stop();
  store_reads_.join();
  server_.reset();
  resealer_.reset();   // Before the committer it submits to.
  committer_.reset();  // Commits what is queued.
}

Status Daemon::LoadCatalogs(std::shared_ptr<Catalogs>* out) const {
  std::string municipalities;
  std::string districts;
  std::string parties;
  std::string bases;
  for (auto [path, text] :
       {std::pair{&config_.municipalities, &municipalities},
        std::pair{&config_.police_districts, &districts}, std::pair{&config_.parties, &parties},
        std::pair{&config_.legal_bases, &bases}}) {
    if (Status s = ReadFile(*path, text); !s.ok()) return s;
  }
  auto catalogs = std::make_shared<Catalogs>();
  if (Status s =
          Places::Parse(municipalities, districts, config_.district_overrides, &catalogs->places);
      !s.ok()) {
    return s;
  }
  if (Status s = PartyRegistry::Parse(parties, catalogs->places, &catalogs->parties); !s.ok()) {
    return s;
  }
  if (Status s = LegalBasisCatalogue::Parse(bases, &catalogs->legal_bases); !s.ok()) return s;
  // The overrides come from the configuration file, among other settings: recorded as the
  // table they make, written by toml++.
  toml::table table;
  for (const auto& [number, district] : config_.district_overrides) table.insert(number, district);
  std::ostringstream overrides_text;
  overrides_text << table << "\n";
  const std::string overrides = table.empty() ? "" : overrides_text.str();
  catalogs->sources = {{"legal-bases", std::move(bases)},
                       {"parties", std::move(parties)},
                       {"municipalities", std::move(municipalities)},
                       {"police-districts", std::move(districts)}};
  if (!overrides.empty()) catalogs->sources.emplace_back("district-overrides", overrides);
  *out = std::move(catalogs);
  return Status::Ok();
}

void Daemon::RecordPolicy(std::shared_ptr<Catalogs> catalogs, std::function<void(Status)> done) {
  PolicyOp op;
  op.generation = catalogs->policy = ++policy_generation_;
  for (const auto& [name, text] : catalogs->sources) op.texts.push_back({name, text, ""});
  committer_->Submit(std::move(op),
                     [this, catalogs = std::move(catalogs), done = std::move(done)](WriteOp& w) {
                       const auto& recorded = std::get<PolicyOp>(w);
                       if (recorded.status.ok()) {
                         std::string hashes;
                         for (const PolicyText& t : recorded.texts) {
                           hashes += " " + t.name + "=" + ToHex(t.sha256).substr(0, 16);
                         }
                         LogInfo("rules in force recorded as log record " +
                                 std::to_string(recorded.index) + ":" + hashes);
                         catalogs_->Set(catalogs);
                       }
                       done(recorded.status);
                     });
}

Status Daemon::MissingKey(const std::string& path, const std::string& what) const {
  return {Code::kFailedPrecondition,
          path + " (the " + what +
              ") is missing, but the store already holds records made with "
              "it: restore the file from the backup kept with this store" +
              (pg_store_ != nullptr ? ", or copy it from a daemon already running on this database"
                                    : "") +
              ". A new key would silently break the store (refusing to create one)"};
}

Status Daemon::LoadSubjectKey(bool may_create, std::string* key) const {
  const std::string& path = config_.subject_key_file;
  bool exists = false;
  if (Status s = FileExists(path, &exists); !s.ok()) return s;
  if (exists) {
    if (Status s = ReadFile(path, key); !s.ok()) return s;
    if (key->size() != kSubjectKeyBytes) {
      return {Code::kFailedPrecondition, path + " must hold exactly 32 bytes"};
    }
    return Status::Ok();
  }
  // First start: make the key. It must be kept (and backed up): without it, auditors can no
  // longer find records by identity number, and flags no longer match.
  if (!may_create) return MissingKey(path, "data-subject hash key");
  *key = RandomBytes(kSubjectKeyBytes);
  if (Status s = CreateSecretFile(path, *key); !s.ok()) return s;
  LogInfo("created data-subject hash key " + path);
  return Status::Ok();
}

Status Daemon::LoadLogKey(bool may_create, std::unique_ptr<merkle::NoteSigner>* signer) const {
  const std::string& path = config_.log_key_file;
  bool exists = false;
  if (Status s = FileExists(path, &exists); !s.ok()) return s;
  if (exists) {
    std::string text;
    if (Status s = ReadFile(path, &text); !s.ok()) return s;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (Status s = merkle::NoteSigner::FromPrivateKey(text, signer); !s.ok()) {
      return {Code::kFailedPrecondition, path + ": " + s.message()};
    }
    if ((*signer)->name() != config_.log_origin) {
      return {Code::kFailedPrecondition, path + " is the key of log \"" + (*signer)->name() +
                                             "\", not of log.origin \"" + config_.log_origin +
                                             "\""};
    }
  } else {
    // First start: a new log key. Its public half is what auditors trust; keep the private
    // half like a CA key.
    if (!may_create) return MissingKey(path, "disclosure-log signing key");
    if (Status s = merkle::NoteSigner::Generate(config_.log_origin, signer); !s.ok()) return s;
    if (Status s = CreateSecretFile(path, (*signer)->PrivateKey() + "\n"); !s.ok()) {
      return s;
    }
    LogInfo("created disclosure-log signing key " + path);
  }
  return WriteFileAtomically(path + ".pub", (*signer)->VerifierKey() + "\n", false);
}

void Daemon::ReportTlsExpiry(const RevocationList& crls) {
  const TlsExpiry expiry = ReadTlsExpiry(config_.tls_cert, config_.client_ca);
  std::optional<int64_t> crl_next_update;
  for (const RevocationList::Crl& crl : crls.crls()) {
    if (crl.next_update != 0 && (!crl_next_update || crl.next_update < *crl_next_update)) {
      crl_next_update = crl.next_update;
    }
  }
  const int64_t now = NowMicros() / kMicrosPerSecond;
  auto left = [now](std::optional<int64_t> at) {
    return at ? static_cast<double>(*at - now) : std::numeric_limits<double>::quiet_NaN();
  };
  metrics_.tls_server_certificate_expiry.Set(left(expiry.server_certificate));
  metrics_.tls_client_ca_expiry.Set(left(expiry.client_ca));
  // A CA taken out of the bundle takes its series along.
  for (auto it = ca_expiry_gauges_.begin(); it != ca_expiry_gauges_.end();) {
    if (expiry.client_cas.contains(it->first)) {
      ++it;
      continue;
    }
    metrics_.tls_client_ca_certificate_expiry.Remove(it->second);
    it = ca_expiry_gauges_.erase(it);
  }
  for (const auto& [subject, not_after] : expiry.client_cas) {
    auto [it, added] = ca_expiry_gauges_.emplace(subject, nullptr);
    if (added) it->second = &metrics_.tls_client_ca_certificate_expiry.Add({{"subject", subject}});
    it->second->Set(left(not_after));
  }
  metrics_.tls_crl_next_update.Set(left(crl_next_update));
  // Two weeks is time to renew by hand; warned again each day until then.
  constexpr int64_t kWarnBefore = int64_t{14} * 86'400;
  if (expiry.server_certificate && *expiry.server_certificate - now < kWarnBefore &&
      now - last_expiry_warning_ >= 86'400) {
    last_expiry_warning_ = now;
    LogWarning("tls.cert " + config_.tls_cert + " expires in " +
               std::to_string((*expiry.server_certificate - now) / 3600) +
               " hours: renew it (replaced files are taken without a restart)");
  }
}

std::string Daemon::StatePath(const std::string& name) const {
  return (std::filesystem::path(config_.subject_key_file).parent_path() / name).string();
}

Status Daemon::LoadHandshakeTrust() {
  return chain_verifier_->Load(StatePath("tls-client-ca.pem"), StatePath("tls-crls"));
}

void Daemon::OnTrustChecked(const std::shared_ptr<const RevocationList>& crls, bool published) {
  // Only when it changed (or the last load failed): reading and parsing it is not free.
  if (published || handshake_trust_failed_) {
    const Status s = LoadHandshakeTrust();
    handshake_trust_failed_ = !s.ok();
    if (!s.ok()) LogError("tls: keeping the trust in force for handshakes: " + s.message());
  }
  authenticator_->SetRevocations(crls);
  // Also when nothing changed: a CRL may have gone stale, and require_fresh_crl then refuses.
  EndUntrustedStreams();
  ReportTlsExpiry(*crls);
  ReportStaleCrls(*crls);
}

void Daemon::ReportStoreWrites(const Status& transaction) {
  const bool failing = !transaction.ok();
  if (failing == store_writes_failing_) return;  // One line per change, not per batch.
  store_writes_failing_ = failing;
  metrics_.store_writes_failing.Set(failing ? 1 : 0);
  if (failing) {
    const std::string detail = "writes fail, nothing is receipted: " + transaction.message();
    health_.Set("store", Health::State::kFailing, detail);
    LogWarning("store: " + detail);
  } else {
    health_.Set("store", Health::State::kOk);
    LogInfo("store: writes succeed again");
  }
}

void Daemon::ReportStaleCrls(const RevocationList& crls) {
  const int64_t now = NowMicros() / kMicrosPerSecond;
  std::string stale;
  for (const RevocationList::Crl* crl : crls.Stale(now)) {
    stale += (stale.empty() ? "" : ", ") + crl->file + " of " + crl->issuer + " (" +
             std::to_string((now - crl->next_update) / 60) + " min past its nextUpdate)";
  }
  if (stale.empty()) {
    health_.Set("crl", Health::State::kOk);
    return;
  }
  const std::string detail =
      config_.require_fresh_crl
          ? "refusing the clients of these CAs (tls.require_fresh_crl): " + stale
          : "stale CRL, its revocations still apply: " + stale + "; publish a new CRL";
  health_.Set("crl", config_.require_fresh_crl ? Health::State::kFailing : Health::State::kWarning,
              detail);
  // Again each hour while it lasts.
  if (now - last_stale_crl_warning_ >= 3600) {
    last_stale_crl_warning_ = now;
    LogWarning("tls: " + detail);
  }
}

void Daemon::EndUntrustedStreams() {
  const auto catalogs = catalogs_->Get();
  const size_t ended = hub_.EndRefused([&](const Caller& caller, std::string* reason) {
    return authenticator_->Recheck(caller, catalogs->parties, reason);
  });
  if (ended > 0) LogInfo("ending " + std::to_string(ended) + " streams that lost their trust");
}

std::shared_ptr<grpc::ServerCredentials> Daemon::TlsCredentials() const {
  // The files are read again every refresh interval, so a renewed certificate or a CA added to
  // the bundle is used by new connections without a restart; open connections keep theirs. An
  // operator replaces each file atomically (rename), the key first.
  const auto refresh_seconds =
      static_cast<unsigned int>(config_.tls_refresh_interval / kMicrosPerSecond);
  auto files = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      config_.tls_key, config_.tls_cert, StatePath("tls-client-ca.pem"), refresh_seconds);
  grpc::experimental::TlsServerCredentialsOptions options(files);
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  // The chain is verified by the daemon's verifier (client_chain_verifier.h), against the
  // published bundle and CRLs, so that a refused handshake names the certificate.
  options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
  options.set_certificate_verifier(ClientChainVerifier::ForGrpc(chain_verifier_));
  // gRPC's TLS stack negotiates TLS 1.3 when the client can and refuses anything below 1.2,
  // with its default AEAD-only cipher suites.
  return grpc::experimental::TlsServerCredentials(options);
}

Status Daemon::StartGrpc(std::string* bound) {
  std::lock_guard lock(server_mu_);
  // Read once here so that a missing or unreadable file stops the start with its name (the
  // watcher would only log it, and refuse every handshake); the publisher reads client_ca.
  for (const std::string* path : {&config_.tls_key, &config_.tls_cert}) {
    std::string text;
    if (Status s = ReadFile(*path, &text); !s.ok()) return s;
  }
  TrustPublisherOptions trust{
      .client_ca = config_.client_ca,
      .crl_directory = config_.crl_directory,
      .published_ca = StatePath("tls-client-ca.pem"),
      .published_crls = StatePath("tls-crls"),
      .interval = std::chrono::seconds(config_.tls_refresh_interval / kMicrosPerSecond)};
  if (Status s = TrustPublisher::Start(
          std::move(trust),
          [this](const std::shared_ptr<const RevocationList>& crls, bool published) {
            OnTrustChecked(crls, published);
          },
          &trust_);
      !s.ok()) {
    return s;
  }
  // The first check (in Start) loaded the handshake's trust; a later load is the publisher's.
  if (handshake_trust_failed_) {
    return {Code::kFailedPrecondition, "tls: the client trust could not be loaded (see above)"};
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  if (Status s = BuildServer(config_.listen, &grpc_address_); !s.ok()) return s;
  *bound = grpc_address_;
  return Status::Ok();
}

Status Daemon::BuildServer(const std::string& listen, std::string* bound) {
  exchange_ = std::make_unique<ExchangeService>(services_, log_publisher_.get());
  registry_ = std::make_unique<RegistryService>(services_);
  audit_ = std::make_unique<AuditService>(services_, log_publisher_.get());
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, TlsCredentials(), &port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(config_.max_message_bytes));
  grpc::ResourceQuota quota("infoflytd");
  quota.Resize(config_.memory_quota_mib * 1024 * 1024);
  builder.SetResourceQuota(quota);
  // A second daemon must not silently share this port (gRPC's default is SO_REUSEPORT).
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  auto millis = [](int64_t micros) {
    return static_cast<int>(std::min<int64_t>(micros / 1000, std::numeric_limits<int>::max()));
  };
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, millis(config_.max_connection_age));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                             millis(config_.max_connection_age_grace));
  // Stalled handshakes hold a descriptor each: drop them soon.
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             millis(config_.handshake_timeout));
  // Keepalive: the server pings a connection idle for 2 min and drops it if the ping is not
  // answered in 20 s (a vanished subscriber's stream ends); a client may ping at most once a
  // minute, and is sent away (GOAWAY too_many_pings) after two pings sooner than that.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 120'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 60'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.RegisterService(exchange_.get());
  builder.RegisterService(registry_.get());
  builder.RegisterService(audit_.get());
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) {
    return {Code::kUnavailable, "cannot listen on " + listen};
  }
  *bound = listen.substr(0, listen.rfind(':')) + ":" + std::to_string(port);
  server_->GetHealthCheckService()->SetServingStatus(true);
  return Status::Ok();
}

void Daemon::OnListenerProbe(const Status& probe) {
  if (probe.ok()) {
    if (probe_failures_ > 0) LogInfo("grpc: the port completes TLS handshakes again");
    probe_failures_ = 0;
    health_.Set("grpc", Health::State::kOk);
    sd_notify(0, "WATCHDOG=1");  // Only while the port works: else systemd restarts us.
    return;
  }
  ++probe_failures_;
  metrics_.self_probe_failures.Increment();
  const std::string detail =
      "the gRPC port " + grpc_address_ + " does not complete TLS handshakes: " + probe.message();
  health_.Set("grpc", Health::State::kFailing, detail);
  LogWarning("grpc: " + detail);
  if (probe_failures_ >= 2 && config_.restart_wedged_listener) RestartServer();
}

void Daemon::RestartServer() {
  std::lock_guard lock(server_mu_);
  if (stopping_) return;
  LogWarning("grpc: rebuilding the gRPC server on " + grpc_address_ +
             " (its listener stopped accepting); open streams end and clients reconnect");
  if (server_) {  // Unset if the last rebuild failed.
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_.reset();
  }
  // Reactors of the old server may still hold their service's context for a moment; those of
  // the server before it are long done.
  retired_.clear();
  retired_.push_back(std::move(exchange_));
  retired_.push_back(std::move(registry_));
  retired_.push_back(std::move(audit_));
  std::string bound;
  if (Status s = BuildServer(grpc_address_, &bound); !s.ok()) {
    LogError("grpc: cannot rebuild the gRPC server, trying again at the next check: " +
             s.message());
    return;
  }
  LogInfo("grpc: serving again on " + bound);
}

Status Daemon::WriteReadyFile(const std::string& grpc_address, const std::string& http_address,
                              const std::string& web_address) const {
  if (config_.ready_file.empty()) return Status::Ok();
  return WriteFileAtomically(config_.ready_file,
                             "{\"grpc\":\"" + grpc_address + "\",\"http\":\"" + http_address +
                                 "\",\"web\":\"" + web_address +
                                 "\",\"pid\":" + std::to_string(getpid()) + "}\n",
                             false);
}

Status Daemon::StartWeb(std::string* bound) {
  if (config_.web_listen.empty()) return Status::Ok();
  web_actions_ = std::make_unique<ExchangeActions>(&services_);
  web_ = std::make_unique<WebServer>(
      &services_, WebOptions{config_.web_listen, config_.tls_cert, config_.tls_key,
                             config_.client_ca, chain_verifier_});
  AddHomePage(web_.get());
  AddInboxPages(web_.get(), &services_, web_actions_.get());
  AddPostPages(web_.get(), &services_, web_actions_.get());
  // Its own instance: the gRPC server's services are replaced when it restarts.
  web_audit_ = std::make_unique<AuditService>(services_, log_publisher_.get());
  AddAuditPages(web_.get(), &services_, web_audit_.get());
  AddLogPages(web_.get(), web_audit_.get());
  AddStatisticsPage(web_.get(), &services_, web_audit_.get());
  web_registry_ = std::make_unique<RegistryActions>(&services_);
  AddFlagPages(web_.get(), &services_, web_registry_.get());
  if (Status s = web_->Start(); !s.ok()) return s;
  *bound = web_->bound_address();
  LogInfo("listening web=https://" + *bound + " tls=mutual client_ca=" + config_.client_ca);
  return Status::Ok();
}

Status Daemon::OpenStore() {
  if (config_.store == "postgres") {
    if (!config_.postgres_password_file.empty()) {
      if (Status s = ReadFile(config_.postgres_password_file, &postgres_password_); !s.ok()) {
        return s;
      }
      // One line, as written by an editor or `echo`.
      while (!postgres_password_.empty() &&
             (postgres_password_.back() == '\n' || postgres_password_.back() == '\r')) {
        postgres_password_.pop_back();
      }
    }
    const PgStoreOptions options{.conninfo = config_.postgres_conninfo,
                                 .instance = config_.instance,
                                 .version = INFOFLYT_VERSION,
                                 .readers = kStoreReaders,
                                 .password = postgres_password_,
                                 .allow_fsync_off = config_.postgres_allow_fsync_off};
    std::unique_ptr<PgStore> store;
    if (Status s = PgStore::Open(options, &store); !s.ok()) return s;
    pg_store_ = store.get();
    store_ = std::move(store);
    // Not the conninfo: it may name more than an operator wants in logs.
    LogInfo("store postgres" + DurabilityText(*store_));
    return Status::Ok();
  }
  SqliteStoreOptions options{config_.sqlite_path, config_.instance, INFOFLYT_VERSION,
                             kStoreReaders};
  options.cache_mib = static_cast<int>(config_.sqlite_cache_mib);
  std::unique_ptr<SqliteStore> store;
  if (Status s = SqliteStore::Open(options, &store); !s.ok()) return s;
  store_ = std::move(store);
  LogInfo("store sqlite path=" + config_.sqlite_path + DurabilityText(*store_) +
          " cache_mib=" + std::to_string(options.cache_mib));
  return Status::Ok();
}

void Daemon::Scrub() {
  std::lock_guard lock(scrub_mu_);
  ScrubReport report;
  if (Status s = ScrubLog(*store_, *log_verifier_, &report); !s.ok()) {
    LogWarning("log scrub could not read the store: " + s.message());
    health_.Set("log", Health::State::kWarning, "scrub could not read the store: " + s.message());
    return;
  }
  metrics_.log_scrub_changed.Set(static_cast<double>(report.changed_count));
  if (!report.ok()) {
    LogError("event=log_scrub_mismatch " + report.Problem());
    health_.Set("log", Health::State::kFailing, report.Problem());
    return;
  }
  health_.Set("log", Health::State::kOk);
  LogInfo("log scrub: " + std::to_string(report.records) +
          " records match their leaves and the signed checkpoint of size " +
          std::to_string(report.checkpoint_size));
}

std::string Daemon::RestoreHint() const {
  return pg_store_ != nullptr
             ? ": daemons sharing a database must share their keys (copy the file from the daemon "
               "that first started on it)"
             : ": restore the key file from the backup kept with this store";
}

Status Daemon::LoadDataKeys(bool fresh_store) {
  const std::string path = DataKeyFile(config_);
  LoadedDataKeys loaded;
  if (Status s = LoadDataKeyFile(path, *store_, RestoreHint(), &loaded); !s.ok()) return s;
  store_->SetDataKeys(loaded.keys);
  const std::string& current = loaded.keys->current_id();
  LogInfo("data keys file=" + path + " keys=" + std::to_string(loaded.keys->Checks().size()) +
          " current=" + current + " (stored envelopes are sealed with AES-256-GCM)");
  if (loaded.first && !fresh_store) {
    // Stored by a version before encryption at rest: sealed before anything is served, since
    // a body in clear is never served as if it were sealed. The keys are recorded after: a pass
    // cut short (say by systemd's start timeout) is done again at the next start.
    LogInfo("sealing envelopes stored in clear by an earlier version");
    // Under systemd, a long pass asks for more time than the unit's start timeout, 30 s at a
    // time while it works, instead of being killed and starting over.
    sd_notify(0, "STATUS=sealing message bodies stored in clear\nEXTEND_TIMEOUT_USEC=30000000");
    const PeriodicThread extend(std::chrono::seconds(10),
                                [] { sd_notify(0, "EXTEND_TIMEOUT_USEC=30000000"); });
    if (Status s = Resealer(committer_.get(), true, current).RunToEnd(); !s.ok()) return s;
  }
  if (Status s = RecordDataKeyFile(path, *loaded.keys, *store_, RestoreHint()); !s.ok()) {
    return s;
  }
  if (loaded.keys->Checks().size() > 1) {
    resealer_ = std::make_unique<Resealer>(committer_.get(), false, current);
    resealer_->Start();
  }
  return Status::Ok();
}

Status Daemon::CheckSharedKeys(const std::string& subject_key) const {
  // A value anyone may see that only the same key reproduces.
  const SharedKeys mine{config_.log_origin, log_publisher_->VerifierKey(),
                        HmacSha256(subject_key, "infoflyt subject key check v1")};
  SharedKeys recorded;
  if (Status s = store_->RecordSharedKeys(mine, NowMicros(), &recorded); !s.ok()) return s;
  const std::string hint = RestoreHint();
  if (recorded.log_origin != mine.log_origin) {
    return {Code::kFailedPrecondition, "log.origin \"" + mine.log_origin +
                                           "\" differs from the store's log, \"" +
                                           recorded.log_origin + "\"" + hint};
  }
  if (recorded.log_verifier_key != mine.log_verifier_key) {
    return {Code::kFailedPrecondition,
            "log.key_file " + config_.log_key_file +
                " differs from the key that signs the store's log (the store records "
                "verifier key " +
                recorded.log_verifier_key + ", this file's is " + mine.log_verifier_key + ")" +
                hint};
  }
  if (recorded.subject_key_check != mine.subject_key_check) {
    return {Code::kFailedPrecondition,
            "audit.subject_key_file " + config_.subject_key_file +
                " differs from the key the store's records are hashed with" + hint};
  }
  return Status::Ok();
}

Status Daemon::StartListener() {
  if (config_.store != "postgres") return Status::Ok();
  // Runs on the listener's thread; both calls only post work to the executor.
  auto on_notice = [this](const CommitNotice& notice) {
    if (notice.all) {
      hub_.NotifyAll();
      escalator_->Rearm();
      return;
    }
    hub_.Notify(notice.parties);
    if (notice.earliest_deadline) escalator_->Watch(*notice.earliest_deadline);
  };
  if (Status s =
          PgListener::Start(config_.postgres_conninfo, postgres_password_, on_notice, &listener_);
      !s.ok()) {
    return s;
  }
  LogInfo(std::string("listening for other daemons' commits on channel ") + kCommitChannel);
  return Status::Ok();
}

Status Daemon::MigrateOnly() {
  if (Status s = CheckConfig(config_); !s.ok()) return s;
  if (Status s = OpenStore(); !s.ok()) return s;
  LogInfo("store schema is up to date");
  return Status::Ok();
}

Status Daemon::Start() {
  if (Status s = CheckConfig(config_); !s.ok()) return s;
  LogOpenFilesLimit(config_);
  std::shared_ptr<Catalogs> catalogs;
  if (Status s = LoadCatalogs(&catalogs); !s.ok()) return s;
  LogInfo("loaded " + std::to_string(catalogs->places.all().size()) + " municipalities in " +
          std::to_string(catalogs->places.Districts().size()) + " police districts, " +
          std::to_string(catalogs->parties.size()) + " parties, " +
          std::to_string(catalogs->legal_bases.Ids().size()) + " legal bases");
  catalogs_ = std::make_unique<CatalogsHolder>(nullptr);  // In force once recorded (below).
  std::string subject_key;

  if (Status s = OpenStore(); !s.ok()) return s;
  // Keys are made only for a store that holds nothing yet: one made for a used store would
  // silently break it (records no longer found, flags no longer matching, another log key).
  const bool fresh_store = store_->LogSize() == 0;
  if (Status s = LoadSubjectKey(fresh_store, &subject_key); !s.ok()) return s;
  committer_ = std::make_unique<GroupCommitter>(
      store_.get(), config_.commit_batch, config_.max_queued_ops,
      [this](size_t ops, const Status& transaction, double seconds) {
        ReportStoreWrites(transaction);
        metrics_.commit_batch_size.Observe(static_cast<double>(ops));
        metrics_.commit_seconds.Observe(seconds);
        metrics_.log_records.Set(static_cast<double>(store_->LogSize()));
        if (LogPublisher* log = log_publisher_ready_.load()) log->OnCommitted(store_->LogSize());
      });
  std::unique_ptr<merkle::NoteSigner> log_key;
  if (Status s = LoadLogKey(fresh_store, &log_key); !s.ok()) return s;
  log_publisher_ = std::make_unique<LogPublisher>(
      LogPublisherOptions{config_.log_origin,
                          std::chrono::milliseconds(config_.checkpoint_interval / 1000),
                          config_.checkpoint_records},
      std::move(log_key), store_.get(), committer_.get(), io_.get_executor());
  log_publisher_ready_.store(log_publisher_.get());
  if (Status s = CheckSharedKeys(subject_key); !s.ok()) return s;
  if (Status s = LoadDataKeys(fresh_store); !s.ok()) return s;
  // No rule is applied before it is on the record.
  std::promise<Status> recorded;
  RecordPolicy(std::move(catalogs), [&recorded](Status s) { recorded.set_value(std::move(s)); });
  if (Status s = recorded.get_future().get(); !s.ok()) {
    return {s.code(), "recording the rules in force: " + s.message()};
  }
  LogInfo(
      "disclosure log origin=" + config_.log_origin + " size=" + std::to_string(store_->LogSize()) +
      " verifier_key=" + log_publisher_->VerifierKey() + " (in " + config_.log_key_file + ".pub)");
  authenticator_ = std::make_unique<PeerAuthenticator>(
      config_.trust_domain, config_.require_fresh_crl, config_.trust_domain_issuers);
  services_ = ServiceContext{catalogs_.get(),  authenticator_.get(),
                             &security_,       store_.get(),
                             committer_.get(), &hub_,
                             &metrics_,        store_reads_.get_executor(),
                             subject_key,      config_.ack_deadlines,
                             nullptr};
  ServiceContext& services = services_;
  PeerCertificate own_certificate;
  std::string own_pem;
  if (Status s = ReadFile(config_.tls_cert, &own_pem); !s.ok()) return s;
  if (Status s = ParsePeerCertificate(own_pem, &own_certificate); !s.ok()) return s;
  escalator_ = std::make_unique<Escalator>(services, own_certificate);
  services.watch_deadline = [e = escalator_.get()](int64_t deadline) { e->Watch(deadline); };
  services.max_streams_per_party = config_.max_streams_per_party;
  if (Status s = StartListener(); !s.ok()) return s;

  std::string grpc_address;
  if (Status s = StartGrpc(&grpc_address); !s.ok()) return s;
  LogInfo(
      "listening grpc=" + grpc_address + " tls=mutual client_ca=" + config_.client_ca +
      " trust_domain=" + config_.trust_domain +
      " tls_files_reread_every=" + std::to_string(config_.tls_refresh_interval / kMicrosPerSecond) +
      "s crl_directory=" + (config_.crl_directory.empty() ? "none" : config_.crl_directory) +
      " require_fresh_crl=" + (config_.require_fresh_crl ? "true" : "false") +
      " handshake_timeout=" + std::to_string(config_.handshake_timeout / kMicrosPerSecond) +
      "s self_probe_every=" + std::to_string(config_.self_probe_interval / kMicrosPerSecond) + "s");

  std::string http_address;
  if (!config_.http_listen.empty()) {
    http_ = std::make_unique<HttpServer>(
        io_, [this](const std::string& path, std::string* type, std::string* body) {
          if (path == "/healthz") return health_.Report(body) ? 200 : 503;
          if (path != "/metrics") {
            *body = "not found\n";
            return 404;
          }
          *type = "text/plain; version=0.0.4";
          *body = prometheus::TextSerializer().Serialize(metrics_.registry->Collect());
          return 200;
        });
    if (Status s = http_->Listen(config_.http_listen); !s.ok()) return s;
    http_address = http_->bound_address();
    LogInfo("listening http=" + http_address + " paths=/metrics,/healthz");
  }

  signals_.add(SIGINT);
  signals_.add(SIGTERM);
  signals_.add(SIGHUP);
  signals_.async_wait([this](std::error_code ec, int signal) {
    if (!ec) OnSignal(signal);
  });
  escalator_->Start();
  log_publisher_->Start();
  listener_watch_ = std::make_unique<PeriodicThread>(
      std::chrono::milliseconds(config_.self_probe_interval / 1000), [this] {
        // No longer than a client's handshake may take, nor than 5 s.
        const auto timeout = std::min<std::chrono::milliseconds>(
            kProbeTimeout, std::chrono::milliseconds(config_.handshake_timeout / 1000));
        OnListenerProbe(ProbeTlsListener(grpc_address_, timeout));
      });
  if (Status s =
          merkle::NoteVerifier::FromVerifierKey(log_publisher_->VerifierKey(), &log_verifier_);
      !s.ok()) {
    return s;
  }
  asio::post(store_reads_, [this] { Scrub(); });  // At start: nothing changed goes unnoticed.
  scrub_timer_ = std::make_unique<PeriodicThread>(
      std::chrono::milliseconds(config_.scrub_interval / 1000), [this] { Scrub(); });
  purger_ = std::make_unique<Purger>(
      committer_.get(), [this] { return catalogs_->Get(); }, &metrics_);
  purge_timer_ = std::make_unique<PeriodicThread>(
      std::chrono::milliseconds(config_.purge_interval / 1000), [this] { purger_->RunPass(); },
      PeriodicThread::First::kRunAtOnce);
  for (int i = 0; i < kIoThreads; ++i) io_threads_.emplace_back([this] { io_.run(); });
  std::string web_address;
  if (Status s = StartWeb(&web_address); !s.ok()) return s;
  if (Status s = WriteReadyFile(grpc_address, http_address, web_address); !s.ok()) return s;
  LogInfo("infoflytd " INFOFLYT_VERSION " serving instance=" + config_.instance);
  sd_notify(0, "READY=1");  // Under systemd (Type=notify); nothing otherwise.
  return Status::Ok();
}

void Daemon::OnSignal(int signal) {
  if (signal == SIGHUP) {
    Reload();
    signals_.async_wait([this](std::error_code ec, int next) {
      if (!ec) OnSignal(next);
    });
    return;
  }
  LogInfo(std::string("received ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT") + ", draining " +
          std::to_string(static_cast<int64_t>(metrics_.posts_in_flight.Value())) +
          " posts in flight");
  std::lock_guard lock(stop_mu_);
  stop_ = true;
  stop_cv_.notify_all();
}

void Daemon::Reload() {
  std::shared_ptr<Catalogs> next;
  if (Status s = LoadCatalogs(&next); !s.ok()) {
    LogError("SIGHUP reload failed, keeping the running configuration: " + s.message());
    return;
  }
  RecordPolicy(std::move(next), [this](const Status& s) {
    if (!s.ok()) {
      LogError(
          "SIGHUP reload failed, keeping the running configuration: the new rules could "
          "not be recorded: " +
          s.message());
      return;
    }
    LogInfo("SIGHUP: reloaded places, parties and legal bases");
    // Parties removed, certificates denied; not on the committer's thread.
    asio::post(io_, [this] { EndUntrustedStreams(); });
  });
}

void Daemon::Wait() {
  std::unique_lock lock(stop_mu_);
  stop_cv_.wait(lock, [this] { return stop_; });
  lock.unlock();
  listener_watch_.reset();  // No rebuilding from here on.
  std::lock_guard server_lock(server_mu_);
  stopping_ = true;
  if (server_) {  // Unset only if a restart failed to rebuild it.
    server_->GetHealthCheckService()->SetServingStatus(false);
    // Open streams are cancelled at the deadline; unary calls in flight get to finish.
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }
  LogInfo("stopped");
}

}  // namespace infoflyt
