// infoflytd's configuration: a TOML file (toml++), with command-line flags overriding it.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "core/ack_deadlines.h"

namespace infoflyt {

struct Config {
  // [server]
  std::string listen = "127.0.0.1:7443";       // gRPC over mTLS.
  std::string http_listen = "127.0.0.1:9464";  // /metrics and /healthz; "" disables.
  // [web] listen: the browser interface, HTTPS with mutual TLS; "" (the default) disables.
  std::string web_listen;
  size_t max_message_bytes = size_t{64} * 1024;
  size_t max_streams_per_party = 8;  // Open Subscribe streams per party.
  // A connection is told to go away after this long (microseconds), and closed when the grace
  // has passed too, streams and all: clients reconnect, and so re-handshake against the trust
  // of the day (renewed certificates, CRLs) now and then.
  int64_t max_connection_age = int64_t{4} * 3600 * 1'000'000;
  int64_t max_connection_age_grace = int64_t{5} * 60 * 1'000'000;
  // A connection that has not completed its TLS handshake by then is dropped (microseconds).
  int64_t handshake_timeout = int64_t{5} * 1'000'000;
  // How often the daemon checks that its gRPC port still completes TLS handshakes; a failed
  // check fails /healthz and withholds the systemd watchdog ping.
  int64_t self_probe_interval = int64_t{10} * 1'000'000;
  // After two failed checks in a row, rebuild the gRPC server on the same port (gRPC 1.51's
  // listener never recovers from a failed accept): open streams end, clients reconnect.
  bool restart_wedged_listener = true;
  // Connections to the gRPC port at most, in all and from one address (an IPv6 /64), enforced
  // by the kernel with the rules `infoflytd --print-connection-limits` prints; the open files
  // limit must leave room above max_connections.
  size_t max_connections = 16384;
  size_t max_connections_per_source = 256;
  // The gRPC server's memory quota (grpc::ResourceQuota), MiB.
  size_t memory_quota_mib = 1024;
  std::string instance;    // Name of this daemon in disclosure records; default: host name.
  std::string ready_file;  // If set, written with the bound addresses once serving.
  // [tls]
  std::string tls_cert;
  std::string tls_key;
  std::string client_ca;
  std::string trust_domain = "infoflyt.test";
  // If set: the only CAs (their subjects, RFC 2253, as `openssl x509 -noout -subject
  // -nameopt RFC2253` prints them without "subject=") whose certificates may name a party of the
  // trust domain, however many CAs the bundle holds for other uses.
  std::vector<std::string> trust_domain_issuers;
  // How often the key, certificate chain and client CA bundle are read again (microseconds):
  // replaced files take effect for new connections without a restart.
  int64_t tls_refresh_interval = 60'000'000;
  // An OpenSSL hashed directory of CRLs (c_rehash / openssl rehash); empty: none.
  std::string crl_directory;
  // Refuse the clients of a CA while its CRL is past its nextUpdate (or it has none); otherwise
  // that is a warning (log and /healthz) and the last CRL's revocations still apply.
  bool require_fresh_crl = false;
  // [store]
  std::string store = "sqlite";  // "sqlite" or "postgres".
  std::string sqlite_path = "infoflyt.db";
  // libpq connection string or URI, with no password in it: that comes from
  // postgres_password_file, or libpq's own PGPASSWORD or passfile. Never on the command line.
  std::string postgres_conninfo;
  std::string postgres_password_file;
  // Serve although the server runs with fsync or full_page_writes off (its commits then do not
  // survive a power loss): for throwaway test clusters only.
  bool postgres_allow_fsync_off = false;
  size_t commit_batch = 512;
  // Client operations (posts, acks, flags, recorded reads) waiting for the store at most; more
  // are refused with RESOURCE_EXHAUSTED, storing nothing.
  size_t max_queued_ops = 20'000;
  size_t sqlite_cache_mib = 16;  // The writer's and each reader's page cache.
  // The data keys stored envelopes are sealed with (ops/data_key_file.h); empty: data.key beside
  // audit.subject_key_file (DataKeyFile).
  std::string data_key_file;
  // How often bodies and flags past their retention (the legal-basis catalogue's retain and
  // retain_max) are erased, besides at start.
  int64_t purge_interval = 3'600'000'000;  // Microseconds: an hour.
  // [data]
  std::string municipalities;
  std::string police_districts;
  std::string parties;
  std::string legal_bases;
  std::map<std::string, std::string> district_overrides;  // kommunenummer -> district.
  // [audit]
  std::string subject_key_file = "subject.key";
  // [log]: the disclosure log's name (checkpoint origin and key name), its Ed25519 signing key
  // (created on first start; the public key is written beside it as <file>.pub), and how often
  // checkpoints are signed: every interval if the log grew, or every `records` records.
  std::string log_origin = "infoflyt.test/disclosures";
  std::string log_key_file = "log.key";
  int64_t checkpoint_interval = 10'000'000;  // Microseconds.
  size_t checkpoint_records = 1000;
  // How often the stored log is checked against itself (server/log_scrub.h), besides at start.
  int64_t scrub_interval = 86'400'000'000;  // Microseconds: a day.
  // [acknowledgement.<message type>]: within, before_event, at_least as durations ("24h").
  // A table in the file replaces that type's default rule whole.
  AckDeadlines ack_deadlines = DefaultAckDeadlines();

  static AckDeadlines DefaultAckDeadlines();
};

// store.data_key_file as configured, or its default.
std::string DataKeyFile(const Config& c);

// Reads `path` into `config`, keeping defaults for absent keys. Relative paths in the file are
// resolved against the file's directory. Unknown sections or keys are errors naming the line.
Status LoadConfigFile(const std::string& path, Config* config);

// Checks required settings after file and flags are merged.
Status CheckConfig(const Config& config);

}  // namespace infoflyt
