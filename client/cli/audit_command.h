// `infoflyt audit query|subject|checkpoint|proof|export|policy-text|verify|verify-receipt`: the
// Audit service for auditor parties, the offline check of an exported log against the log's signed
// checkpoints, and the offline check of a saved receipt (anyone's).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "infoflyt_client.h"
#include "output.h"

namespace infoflyt::cli {

// Flag values of the audit subcommands; each binds its own.
struct AuditFlags {
  std::string command;  // The subcommand parsed: "query", "subject", ...

  // query (national_id also for subject; from_time and until_time also for stats)
  std::string national_id;
  std::string party;
  std::string legal_basis;
  std::string message_type;
  std::string outcome;
  std::string from_time;   // RFC 3339.
  std::string until_time;  // RFC 3339.
  uint32_t page_size = 0;
  std::string page_token;
  bool all_pages = false;

  // checkpoint, proof
  uint64_t tree_size = 0;
  std::string note_out;
  std::string key_out;
  std::string key_file;       // The log's verifier key, obtained independently; also verify.
  std::string previous_note;  // A checkpoint note kept earlier; also verify.
  uint64_t index = 0;

  // export
  std::string export_out;
  std::string format;  // "jsonl" or "pb"; default by file extension. Also verify.
  uint64_t from_index = 0;
  uint64_t to_index = 0;
  std::string checkpoint_out;

  // verify
  std::string log_file;
  std::string checkpoint_note;

  // verify-receipt (and key_file)
  std::string evidence_file;

  // policy-text
  std::string policy_sha256;
  std::string policy_out;
};

// Adds the audit subcommands to `audit`, binding into `flags`.
void AddAuditCommands(CLI::App* audit, AuditFlags* flags);

// True unless the parsed subcommand works offline (`verify`, `verify-receipt`), so main can
// skip connecting.
bool AuditNeedsServer(const AuditFlags& flags);

// Runs the parsed subcommand and returns the exit code. `client` may be null if
// AuditNeedsServer(flags) is false.
int RunAuditCommand(client::ExchangeClient* client, const AuditFlags& flags, Format format);

}  // namespace infoflyt::cli
