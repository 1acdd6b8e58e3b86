// infoflytd put together: loads configuration and data, opens the store, and serves the gRPC
// API over mutual TLS plus the operations HTTP port, until SIGTERM or SIGINT. SIGHUP reloads the
// places, parties and legal-basis files without dropping connections.
#pragma once

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/thread_pool.hpp>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/periodic_thread.h"
#include "ops/config.h"
#include "ops/grpc_log.h"
#include "ops/health.h"
#include "ops/http_server.h"
#include "ops/purger.h"
#include "ops/resealer.h"
#include "ops/trust_publisher.h"
#include "server/audit_service.h"
#include "server/client_chain_verifier.h"
#include "server/escalator.h"
#include "server/exchange_service.h"
#include "server/log_publisher.h"
#include "server/registry_service.h"
#include "store/pg_listener.h"
#include "store/pg_store.h"
#include "store/store.h"
#include "web/web_server.h"

namespace infoflyt {

class Daemon {
 public:
  explicit Daemon(Config config);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Everything up to serving; an error names what failed.
  Status Start();
  // Blocks until a termination signal, then drains and stops.
  void Wait();
  // Instead of Start: opens the store, bringing its schema up to date (on PostgreSQL, and
  // granting the daemon role its privileges: see deploy/postgres/roles.sql), and returns.
  Status MigrateOnly();

 private:
  Status LoadCatalogs(std::shared_ptr<Catalogs>* out) const;
  // Records `catalogs` as the rules in force (a "policy" record keeping their texts) and, once
  // that is durable, puts them in force; then `done`, on the committer's completion thread
  // (it must not block). Until then, and if recording fails, the rules in force stay as they
  // were.
  void RecordPolicy(std::shared_ptr<Catalogs> catalogs, std::function<void(Status)> done);
  // The key from its file; made if there is none and `may_create` (a store that holds nothing
  // yet), else FAILED_PRECONDITION naming the file to restore.
  Status LoadSubjectKey(bool may_create, std::string* key) const;
  // The configured backend, its schema brought up to date.
  Status OpenStore();
  // On PostgreSQL: listens for other daemons' commits (pg_listener.h).
  Status StartListener();
  // Refuses keys other than those the store recorded at its first start (on PostgreSQL, the
  // database's first daemon's); a store from before that was recorded records these.
  Status CheckSharedKeys(const std::string& subject_key) const;
  // What to do about a key file the store's records need: restore it, or copy it from the
  // database's first daemon.
  std::string RestoreHint() const;
  // The data key file (made for a store that records no data key), checked against the keys
  // the store recorded and given to the store; envelopes in clear from an earlier version are
  // sealed before this returns, and after a rotation a background pass reseals the rest.
  Status LoadDataKeys(bool fresh_store);
  // The disclosure log's signing key: loaded, or made as LoadSubjectKey makes its key; writes
  // the .pub file.
  Status LoadLogKey(bool may_create, std::unique_ptr<merkle::NoteSigner>* signer) const;
  // Why a used store's missing key file `path` (the `what`) is not made anew.
  Status MissingKey(const std::string& path, const std::string& what) const;
  Status StartGrpc(std::string* bound);
  // The gRPC server and its services on `listen`; under server_mu_.
  Status BuildServer(const std::string& listen, std::string* bound);
  // After each check of the gRPC port, on the watch's thread: /healthz, the systemd watchdog,
  // and after two failures in a row (if so configured) RestartServer.
  void OnListenerProbe(const Status& probe);
  // Replaces the gRPC server by a new one on the same port.
  void RestartServer();
  // Mutual TLS from the [tls] files, watched for replacement; client chains verified by
  // chain_verifier_.
  std::shared_ptr<grpc::ServerCredentials> TlsCredentials() const;
  // A file in the daemon's state directory (beside the subject key), e.g. the client trust the
  // TrustPublisher keeps for gRPC.
  std::string StatePath(const std::string& name) const;
  // After each check of the TLS trust files, on the TrustPublisher's thread: the CRLs calls are
  // checked against, streams that lost their trust ended, gauges and /healthz updated.
  // `published`: the handshake's trust changed, and the verifier loads it again.
  void OnTrustChecked(const std::shared_ptr<const RevocationList>& crls, bool published);
  // Hands the published client CA bundle and CRLs to the handshake's verifier.
  Status LoadHandshakeTrust();
  // Sets the TLS expiry gauges (the CRLs' from `crls`) and warns of a server certificate about
  // to expire.
  void ReportTlsExpiry(const RevocationList& crls);
  // CRLs past their nextUpdate: a warning (or, with require_fresh_crl, a failure) on /healthz,
  // logged each hour.
  void ReportStaleCrls(const RevocationList& crls);
  // After each store transaction, on the committer thread: while they fail, /healthz fails
  // (`failing store: ...`) and a gauge says so; a log line at each change.
  void ReportStoreWrites(const Status& transaction);
  // Ends every Subscribe stream whose caller is no longer trusted.
  void EndUntrustedStreams();
  // Checks the stored log against itself (server/log_scrub.h): a mismatch is an error line, the
  // gauge and a failing /healthz until a scrub finds none. Blocks; run off the event loop.
  void Scrub();
  // The browser interface on web.listen, if set.
  Status StartWeb(std::string* bound);
  Status WriteReadyFile(const std::string& grpc_address, const std::string& http_address,
                        const std::string& web_address) const;
  void OnSignal(int signal);
  void Reload();

  // The store's reader connections, and as many threads to run the reads the services post
  // (flag lookups, stream fetches, status and audit queries): a read never waits for a
  // connection, and the I/O threads (ops port, timers, signals) never wait behind a read.
  static constexpr int kStoreReaders = 4;

  Config config_;
  std::string postgres_password_;  // From store.postgres_password_file, if set.
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  asio::signal_set signals_;
  std::vector<std::thread> io_threads_;
  asio::thread_pool store_reads_{kStoreReaders};

  Metrics metrics_;
  SecurityEvents security_{&metrics_};
  GrpcLogRouter grpc_log_{&security_};  // gRPC's handshake refusals as security events.
  // Shared with every gRPC server built (they may outlive a rebuild's old one briefly).
  std::shared_ptr<ClientChainVerifier> chain_verifier_ =
      std::make_shared<ClientChainVerifier>(&security_, config_.require_fresh_crl);
  // Set by the TrustPublisher's thread; read at start.
  std::atomic<bool> handshake_trust_failed_{false};
  Health health_;
  std::unique_ptr<CatalogsHolder> catalogs_;
  uint64_t policy_generation_ = 0;  // Of the rules recorded last; the signal thread's.
  std::unique_ptr<PeerAuthenticator> authenticator_;
  std::unique_ptr<Store> store_;
  PgStore* pg_store_ = nullptr;  // store_, if it is PostgreSQL.
  SubscriptionHub hub_;
  // Declared before the committer: its commit callbacks use the escalator, and the committer is
  // stopped (committing what is queued) before the escalator goes.
  std::unique_ptr<Escalator> escalator_;
  // On PostgreSQL: what other daemons sharing the database commit, passed to the hub and the
  // escalator. Declared after both, so it stops before they go.
  std::unique_ptr<PgListener> listener_;
  std::unique_ptr<LogPublisher> log_publisher_;
  std::atomic<LogPublisher*> log_publisher_ready_{nullptr};  // Read on the committer thread.
  bool store_writes_failing_ = false;                        // Committer thread only.
  std::unique_ptr<GroupCommitter> committer_;
  std::unique_ptr<Resealer> resealer_;  // Stops before the committer goes.
  ServiceContext services_{};
  std::unique_ptr<ExchangeService> exchange_;
  std::unique_ptr<RegistryService> registry_;
  std::unique_ptr<AuditService> audit_;
  std::vector<std::unique_ptr<grpc::Service>> retired_;  // Of the server a restart replaced.
  // Before the server, which reads what it publishes.
  std::unique_ptr<TrustPublisher> trust_;
  // TrustPublisher's thread only:
  int64_t last_expiry_warning_ = 0;
  std::map<std::string, prometheus::Gauge*> ca_expiry_gauges_;  // By CA subject.
  int64_t last_stale_crl_warning_ = 0;
  std::mutex server_mu_;  // Guards server_ (and the services) against a restart.
  std::unique_ptr<grpc::Server> server_;
  bool stopping_ = false;     // Under server_mu_: no more restarts.
  std::string grpc_address_;  // As bound at start; a restart binds it again.
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<ExchangeActions> web_actions_;
  std::unique_ptr<AuditService> web_audit_;
  std::unique_ptr<RegistryActions> web_registry_;
  std::unique_ptr<WebServer> web_;  // Stopped first: its pages use everything else.
  // Checks the gRPC port every server.self_probe_interval; stopped before the server.
  std::unique_ptr<PeriodicThread> listener_watch_;
  int probe_failures_ = 0;                              // In a row; the watch's thread only.
  std::mutex scrub_mu_;                                 // One scrub at a time.
  std::unique_ptr<merkle::NoteVerifier> log_verifier_;  // The log's own key, for the scrub.
  std::unique_ptr<PeriodicThread> scrub_timer_;         // Every log.scrub_interval.
  std::unique_ptr<Purger> purger_;
  std::unique_ptr<PeriodicThread> purge_timer_;  // At start and every store.purge_interval.

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
};

}  // namespace infoflyt
