// infoflytd: the infoflyt exchange daemon.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

#include "base/log.h"
#include "ops/connection_limits.h"
#include "ops/daemon.h"
#include "ops/data_key_file.h"
#include "store/sqlite_backup.h"

namespace {

// --print-connection-limits: the nftables rules for this configuration on stdout.
int PrintConnectionLimits(const infoflyt::Config& config) {
  std::string ruleset;
  infoflyt::Status s = infoflyt::CheckConfig(config);
  if (s.ok()) s = infoflyt::NftConnectionLimits(config, &ruleset);
  if (!s.ok()) {
    infoflyt::LogError("config: " + s.message());
    return 78;  // EX_CONFIG
  }
  std::fwrite(ruleset.data(), 1, ruleset.size(), stdout);
  return 0;
}

// rotate-data-key: a new current key in the data key file; the daemon uses it once restarted.
int RotateDataKey(const infoflyt::Config& config) {
  const std::string path = infoflyt::DataKeyFile(config);
  std::string id;
  if (auto s = infoflyt::RotateDataKeyFile(path, &id); !s.ok()) {
    infoflyt::LogError("rotate-data-key: " + s.message());
    return 74;  // EX_IOERR
  }
  infoflyt::LogInfo("added data key " + id + " to " + path +
                    "; restart infoflytd (every daemon sharing the database, each with this "
                    "file) to seal new bodies with it and reseal the stored ones");
  return 0;
}

// backup --to FILE: an online copy of the SQLite store (store/sqlite_backup.h).
int Backup(const infoflyt::Config& config, const std::string& to) {
  if (config.store != "sqlite") {
    infoflyt::LogError(
        "backup: store.backend is " + config.store +
        ": back PostgreSQL up with pg_basebackup or pg_dump (docs/operations.md, \"Backup and "
        "restore\")");
    return 64;  // EX_USAGE
  }
  infoflyt::SqliteBackupResult result;
  if (auto s = infoflyt::BackUpSqliteStore(config.sqlite_path, to, &result); !s.ok()) {
    infoflyt::LogError("backup: " + s.message());
    return s.code() == infoflyt::Code::kFailedPrecondition ? 73 : 74;  // EX_CANTCREAT, EX_IOERR
  }
  infoflyt::LogInfo("backed up " + config.sqlite_path + " to " + to + " pages=" +
                    std::to_string(result.pages) + " log_size=" + std::to_string(result.log_size) +
                    " latest_checkpoint=" + std::to_string(result.checkpoint_size) +
                    "; keep the key files (subject, log, data) apart from it: it cannot be "
                    "restored without them");
  return 0;
}

// Starts the daemon (or only migrates the store) and serves until told to stop.
int Run(infoflyt::Config config, bool migrate_only) {
  infoflyt::Daemon daemon(std::move(config));
  if (migrate_only) {
    if (auto s = daemon.MigrateOnly(); !s.ok()) {
      infoflyt::LogError("migration failed: " + s.message());
      return s.code() == infoflyt::Code::kInvalidArgument ? 78 : 69;
    }
    return 0;
  }
  if (auto s = daemon.Start(); !s.ok()) {
    infoflyt::LogError("startup failed: " + s.message());
    return s.code() == infoflyt::Code::kInvalidArgument ? 78 : 69;  // EX_CONFIG, EX_UNAVAILABLE
  }
  daemon.Wait();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"infoflytd " INFOFLYT_VERSION
               " - secure inter-agency information exchange daemon (gRPC over mutual TLS).\n"
               "Settings come from --config (TOML); flags override the file."};
  std::string config_path;
  infoflyt::Config flags;
  app.add_option("-c,--config", config_path, "TOML configuration file")
      ->check(CLI::ExistingFile)
      ->envname("INFOFLYTD_CONFIG");
  auto* listen = app.add_option("--listen", flags.listen, "gRPC address host:port (mTLS)");
  auto* http = app.add_option("--http-listen", flags.http_listen,
                              "metrics/health HTTP address host:port, \"\" to disable");
  auto* web = app.add_option("--web-listen", flags.web_listen,
                             "browser interface HTTPS address host:port (mTLS), \"\" to disable");
  auto* db = app.add_option("--sqlite-path", flags.sqlite_path, "SQLite database file");
  auto* instance = app.add_option("--instance", flags.instance, "instance name in records");
  auto* conninfo = app.add_option("--postgres-conninfo", flags.postgres_conninfo,
                                  "PostgreSQL connection string (no password in it)");
  auto* password_file = app.add_option("--postgres-password-file", flags.postgres_password_file,
                                       "file holding the PostgreSQL password");
  bool migrate_only = false;
  app.add_flag("--migrate-only", migrate_only,
               "bring the store's schema up to date and exit (on PostgreSQL: connected as the "
               "database owner; this also grants the infoflyt_daemon role its privileges)");
  bool print_connection_limits = false;
  app.add_flag("--print-connection-limits", print_connection_limits,
               "print the nftables rules that cap connections to the gRPC port "
               "(server.max_connections, server.max_connections_per_source) and exit; load "
               "them with `| nft -f -`");
  app.add_option("--ready-file", flags.ready_file,
                 "write {\"grpc\":...,\"http\":...,\"web\":...} here once serving");
  app.fallthrough();  // --config and the rest also after a subcommand.
  CLI::App* rotate = app.add_subcommand(
      "rotate-data-key",
      "add a new current key to store.data_key_file (keeping every older one) and exit; "
      "after a restart, new bodies are sealed with it and stored ones resealed in the "
      "background");
  std::string backup_to;
  CLI::App* backup = app.add_subcommand(
      "backup",
      "copy the SQLite store, consistent while the daemon serves, to a new file and exit "
      "(restore: docs/operations.md)");
  backup->add_option("--to", backup_to, "the new file (never replaced)")->required();
  CLI11_PARSE(app, argc, argv);

  infoflyt::Config config;
  if (!config_path.empty()) {
    if (auto s = infoflyt::LoadConfigFile(config_path, &config); !s.ok()) {
      infoflyt::LogError("config: " + s.message());
      return 78;  // EX_CONFIG
    }
  }
  if (listen->count()) config.listen = flags.listen;
  if (http->count()) config.http_listen = flags.http_listen;
  if (web->count()) config.web_listen = flags.web_listen;
  if (db->count()) config.sqlite_path = flags.sqlite_path;
  if (instance->count()) config.instance = flags.instance;
  if (conninfo->count()) config.postgres_conninfo = flags.postgres_conninfo;
  if (password_file->count()) config.postgres_password_file = flags.postgres_password_file;
  config.ready_file = flags.ready_file;

  if (print_connection_limits) return PrintConnectionLimits(config);
  if (rotate->parsed()) return RotateDataKey(config);
  if (backup->parsed()) return Backup(config, backup_to);
  // Errors are Status values; a file-system call that throws all the same (a directory that
  // cannot be listed mid-way, say) ends the daemon with a log line, not an abort.
  try {
    return Run(std::move(config), migrate_only);
  } catch (const std::filesystem::filesystem_error& e) {
    infoflyt::LogError(std::string("stopped on a file-system error: ") + e.what());
    return 74;  // EX_IOERR
  }
}
