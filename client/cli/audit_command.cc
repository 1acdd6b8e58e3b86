#include "audit_command.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <vector>

#include "base/crypto.h"
#include "file_io.h"
#include "log_file.h"
#include "log_verify.h"
#include "receipt_command.h"

namespace infoflyt::cli {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kUntrustedKeyWarning[] =
    "infoflyt: warning: checked against the key the server sent, which shows only that the "
    "server agrees with itself; pass --key with the log key obtained independently (e.g. kept "
    "from `audit checkpoint --key-out`)\n";

int Usage(const std::string& message) {
  std::cerr << "infoflyt: " << message << "\n";
  return kExitUsage;
}

// A local failure (file, format) reported like a server error, with the same exit codes.
int ReportLocal(const Status& status, Format format) {
  return ReportError(grpc::Status(static_cast<grpc::StatusCode>(status.code()), status.message()),
                     format);
}

int CannotRead(const std::string& path, Format format) {
  return ReportLocal({Code::kNotFound, "cannot read " + path}, format);
}

int CannotWrite(const std::string& path) {
  std::cerr << "infoflyt: cannot write " << path << "\n";
  return kExitIoErr;
}

// The verifier key to check against: the --key file if given (trusted), else the server's own
// (with a warning). Returns 0 or an exit code.
int ResolveKey(const AuditFlags& f, const std::string& server_key, Format format, std::string* key,
               bool* trusted) {
  if (f.key_file.empty()) {
    std::cerr << kUntrustedKeyWarning;
    *key = server_key;
    *trusted = false;
    return 0;
  }
  if (!ReadKeyFile(f.key_file, key)) return CannotRead(f.key_file, format);
  *trusted = true;
  if (!server_key.empty() && server_key != *key) {
    std::cerr << "infoflyt: warning: the server names a different log key (" << server_key
              << ") than --key; checking against --key\n";
  }
  return 0;
}

// A failed check: data that does not prove what it should, so EX_DATAERR.
int ReportVerifyFailure(const std::string& message, Format format) {
  if (format == Format::kJson) {
    std::cout << "{\"ok\":false,\"message\":" << JsonQuote(message) << "}" << std::endl;
  } else {
    std::cerr << "infoflyt: verification failed: " << message << "\n";
  }
  return kExitDataErr;
}

bool ParseTimeFlag(const std::string& text, const char* flag, google::protobuf::Timestamp* out) {
  if (TimeUtil::FromString(text, out)) return true;
  // The value is not echoed: it is whatever was typed, which could be anything.
  std::cerr << "infoflyt: " << flag << ": not an RFC 3339 time such as 2026-12-01T09:00:00Z\n";
  return false;
}

// Every set field of a record, one per line, for reading; bytes in hex.
void PrintRecordDetail(const v1::DisclosureRecord& record) {
  const auto* reflection = v1::DisclosureRecord::GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(record, &fields);
  std::cout << "record " << record.index() << "\n";
  for (const auto* field : fields) {
    if (field->number() == v1::DisclosureRecord::kIndexFieldNumber) continue;
    std::cout << "  " << field->name() << ": ";
    switch (field->cpp_type()) {
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT64:
        std::cout << reflection->GetUInt64(record, field);
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_STRING:
        if (field->type() == google::protobuf::FieldDescriptor::TYPE_BYTES) {
          std::cout << client::Hex(reflection->GetString(record, field));
        } else {
          std::cout << reflection->GetString(record, field);
        }
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE:
        if (field->message_type() == google::protobuf::Timestamp::descriptor()) {
          std::cout << TimeUtil::ToString(record.occurred_at());
        } else {
          std::cout << ToJson(reflection->GetMessage(record, field));
        }
        break;
      default:
        std::cout << "(type " << field->cpp_type_name() << ")";
    }
    std::cout << "\n";
  }
}

// Left-aligned columns as wide as their widest cell, two spaces apart.
void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - row[c].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

int RunQuery(client::ExchangeClient& client, const AuditFlags& f, Format format) {
  v1::QueryDisclosuresRequest request;
  request.set_national_id(f.national_id);
  request.set_party(f.party);
  request.set_legal_basis(f.legal_basis);
  request.set_message_type(f.message_type);
  request.set_outcome(f.outcome);
  if ((!f.from_time.empty() && !ParseTimeFlag(f.from_time, "--from", request.mutable_from())) ||
      (!f.until_time.empty() && !ParseTimeFlag(f.until_time, "--until", request.mutable_until()))) {
    return kExitUsage;
  }
  request.set_page_size(f.page_size);
  request.set_page_token(f.page_token);

  v1::QueryDisclosuresResponse all;
  for (;;) {
    v1::QueryDisclosuresResponse page;
    const grpc::Status s = client.QueryDisclosures(request, &page);
    if (!s.ok()) return ReportError(s, format);
    all.mutable_records()->MergeFrom(page.records());
    all.mutable_changed_records()->MergeFrom(page.changed_records());
    all.set_next_page_token(page.next_page_token());
    if (!f.all_pages || page.next_page_token().empty()) break;
    if (page.next_page_token() == request.page_token()) {
      std::cerr << "infoflyt: the server repeated a page token; stopping\n";
      return kExitSoftware;
    }
    request.set_page_token(page.next_page_token());
  }

  if (format == Format::kJson) {
    PrintJson(all);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {
      {"INDEX", "TIME", "EVENT", "OUTCOME", "SENDER", "RECIPIENT", "TYPE", "BASIS"}};
  auto or_dash = [](const std::string& v) { return v.empty() ? std::string("-") : v; };
  for (const auto& r : all.records()) {
    rows.push_back({std::to_string(r.index()), TimeUtil::ToString(r.occurred_at()), r.event(),
                    r.outcome(), r.sender(), or_dash(r.recipient()), or_dash(r.message_type()),
                    or_dash(r.legal_basis())});
  }
  PrintTable(rows);
  std::cout << all.records_size() << " record(s)" << std::endl;
  for (uint64_t index : all.changed_records()) {
    std::cerr << "infoflyt: record " << index
              << " CHANGED SINCE IT WAS LOGGED: it no longer hashes to its leaf in the log; do "
                 "not rely on it\n";
  }
  if (all.changed_records_size() > 0) return kExitDataErr;
  if (!all.next_page_token().empty()) {
    std::cerr << "infoflyt: more records: --page-token " << all.next_page_token()
              << " (or --all)\n";
  }
  return kExitOk;
}

int RunStats(client::ExchangeClient& client, const AuditFlags& f, Format format) {
  v1::GetStatisticsRequest request;
  if ((!f.from_time.empty() && !ParseTimeFlag(f.from_time, "--from", request.mutable_from())) ||
      (!f.until_time.empty() && !ParseTimeFlag(f.until_time, "--until", request.mutable_until()))) {
    return kExitUsage;
  }
  v1::Statistics stats;
  if (grpc::Status s = client.GetStatistics(request, &stats); !s.ok()) {
    return ReportError(s, format);
  }
  if (format == Format::kJson) {
    PrintJson(stats);
    return kExitOk;
  }
  std::cout << "period " << TimeUtil::ToString(stats.from()) << " - "
            << TimeUtil::ToString(stats.until()) << "\n\n";
  std::vector<std::vector<std::string>> counts = {
      {"DAY", "EVENT", "OUTCOME", "BASIS", "SENDER KIND", "COUNT"}};
  auto or_dash = [](const std::string& v) { return v.empty() ? std::string("-") : v; };
  for (const auto& c : stats.counts()) {
    counts.push_back({c.day(), c.event(), c.outcome(), or_dash(c.legal_basis()), c.sender_kind(),
                      std::to_string(c.count())});
  }
  PrintTable(counts);
  std::vector<std::vector<std::string>> acks = {
      {"MUNICIPALITY", "DELIVERIES", "ACKNOWLEDGED", "MEDIAN S", "P90 S", "WITHIN DEADLINE"}};
  for (const auto& a : stats.acknowledgements()) {
    acks.push_back({a.municipality(), std::to_string(a.deliveries()),
                    std::to_string(a.acknowledged()),
                    a.acknowledged() == 0 ? "-" : std::to_string(std::llround(a.median_seconds())),
                    a.acknowledged() == 0 ? "-" : std::to_string(std::llround(a.p90_seconds())),
                    std::to_string(a.within_deadline()) + "/" + std::to_string(a.with_deadline())});
  }
  std::cout << std::endl;
  PrintTable(acks);
  return kExitOk;
}

int RunSubject(client::ExchangeClient& client, const AuditFlags& f, Format format) {
  v1::SubjectAccessReportResponse report;
  const grpc::Status s = client.SubjectAccessReport(f.national_id, &report);
  if (!s.ok()) return ReportError(s, format);
  if (format == Format::kJson) {
    PrintJson(report);
    return kExitOk;
  }
  // The person is not named in the report: it is handed to them, and printed copies travel.
  std::cout << "Subject access report, generated " << TimeUtil::ToString(report.generated_at())
            << "\n"
            << report.entries_size() << " disclosure(s) recorded\n"
            << report.exemptions() << "\n\n";
  for (const auto& e : report.entries()) {
    std::cout << TimeUtil::ToString(e.occurred_at()) << "  ";
    std::cout << e.event() << ": " << e.sender() << " -> "
              << (e.recipient().empty() ? "-" : e.recipient()) << "\n    "
              << (e.message_type().empty() ? "-" : e.message_type()) << ", fields "
              << (e.view().empty() ? "-" : e.view()) << ", basis "
              << (e.legal_basis().empty() ? "-" : e.legal_basis());
    if (!e.legal_citation().empty()) std::cout << " (" << e.legal_citation() << ")";
    std::cout << "\n    log record " << e.index()
              << (e.changed_since_logged() ? " (CHANGED SINCE IT WAS LOGGED: do not rely on it)"
                                           : "")
              << "\n";
  }
  if (report.has_checkpoint()) {
    std::cout << "\nlog checkpoint: size " << report.checkpoint().tree_size() << ", root "
              << client::Hex(report.checkpoint().root_hash()) << "\n";
  }
  std::cout << std::flush;
  return kExitOk;
}

int RunCheckpoint(client::ExchangeClient& client, const AuditFlags& f, Format format) {
  v1::SignedCheckpoint answer;
  const grpc::Status s = client.GetCheckpoint(f.tree_size, &answer);
  if (!s.ok()) return ReportError(s, format);
  std::string key;
  bool trusted = false;
  if (int rc = ResolveKey(f, answer.verifier_key(), format, &key, &trusted); rc != 0) return rc;
  // Before anything is kept: a note that does not verify is not worth keeping.
  merkle::Checkpoint checkpoint;
  if (Status v = client::VerifyCheckpointNote(answer.note(), key, &checkpoint); !v.ok()) {
    return ReportVerifyFailure(v.message(), format);
  }
  if (checkpoint.size != answer.tree_size() || checkpoint.root != answer.root_hash()) {
    return ReportVerifyFailure("the answer's tree_size/root_hash differ from its signed note's",
                               format);
  }
  if (f.tree_size != 0 && checkpoint.size != f.tree_size) {
    return ReportVerifyFailure("asked for the checkpoint at size " + std::to_string(f.tree_size) +
                                   ", got size " + std::to_string(checkpoint.size),
                               format);
  }

  std::optional<client::VerifyResult> consistency;
  if (!f.previous_note.empty()) {
    std::string kept;
    if (!ReadFile(f.previous_note, &kept)) return CannotRead(f.previous_note, format);
    merkle::Checkpoint earlier;
    if (Status v = client::VerifyCheckpointNote(kept, key, &earlier); !v.ok()) {
      return ReportVerifyFailure("--previous: " + v.message(), format);
    }
    if (earlier.size > checkpoint.size) {
      return ReportVerifyFailure(
          "log is not consistent with the earlier checkpoint (truncated or forked): "
          "it covers " +
              std::to_string(earlier.size) + " entries, the log now only " +
              std::to_string(checkpoint.size),
          format);
    }
    v1::ConsistencyProof proof;
    const grpc::Status ps = client.GetConsistencyProof(earlier.size, checkpoint.size, &proof);
    if (!ps.ok()) return ReportError(ps, format);
    consistency = client::VerifyConsistencyAnswer(proof, key, kept);
    if (!consistency->ok) return ReportVerifyFailure(consistency->message, format);
    if (proof.to().tree_size() != checkpoint.size || proof.to().root_hash() != checkpoint.root) {
      return ReportVerifyFailure(
          "the consistency proof ends at another checkpoint than the one fetched", format);
    }
  }

  if (!f.note_out.empty() && !WriteFile(f.note_out, answer.note())) return CannotWrite(f.note_out);
  if (!f.key_out.empty() && !WriteFile(f.key_out, answer.verifier_key() + "\n")) {
    return CannotWrite(f.key_out);
  }

  if (format == Format::kJson) {
    std::cout << "{\"tree_size\":" << checkpoint.size << ",\"root_hash\":\""
              << client::Hex(checkpoint.root) << "\",\"origin\":" << JsonQuote(checkpoint.origin)
              << ",\"signed_at\":"
              << JsonQuote(answer.has_signed_at() ? TimeUtil::ToString(answer.signed_at()) : "")
              << ",\"verifier_key\":" << JsonQuote(answer.verifier_key())
              << ",\"key_trusted\":" << (trusted ? "true" : "false")
              << ",\"note\":" << JsonQuote(answer.note());
    if (consistency) {
      std::cout << ",\"consistent_with_previous\":true,\"message\":"
                << JsonQuote(consistency->message);
    }
    std::cout << "}" << std::endl;
    return kExitOk;
  }
  std::cout << "tree size: " << checkpoint.size << "\nroot: " << client::Hex(checkpoint.root)
            << "\norigin: " << checkpoint.origin;
  if (answer.has_signed_at())
    std::cout << "\nsigned at: " << TimeUtil::ToString(answer.signed_at());
  std::cout << "\nverifier key: " << answer.verifier_key()
            << (trusted ? " (signature checked against --key)"
                        : " (as sent by the server; not independently trusted)")
            << "\n";
  if (consistency) std::cout << consistency->message << "\n";
  std::cout << "\n" << answer.note() << std::flush;
  return kExitOk;
}

int RunProof(client::ExchangeClient& client, const AuditFlags& f, Format format) {
  v1::InclusionProof answer;
  const grpc::Status s = client.GetInclusionProof(f.index, f.tree_size, &answer);
  if (!s.ok()) return ReportError(s, format);
  std::string key;
  bool trusted = false;
  if (int rc = ResolveKey(f, answer.checkpoint().verifier_key(), format, &key, &trusted); rc != 0) {
    return rc;
  }
  if (!answer.has_record() || answer.record().index() != f.index) {
    return ReportVerifyFailure("asked for record " + std::to_string(f.index) +
                                   ", the server answered with record " +
                                   std::to_string(answer.record().index()),
                               format);
  }
  const client::VerifyResult r = client::VerifyInclusionAnswer(answer, key);
  if (!r.ok) return ReportVerifyFailure(r.message, format);
  if (f.tree_size != 0 && r.tree_size != f.tree_size) {
    return ReportVerifyFailure("asked for a proof in the tree of size " +
                                   std::to_string(f.tree_size) + ", got size " +
                                   std::to_string(r.tree_size),
                               format);
  }
  if (format == Format::kJson) {
    std::cout << "{\"ok\":true,\"index\":" << f.index << ",\"tree_size\":" << r.tree_size
              << ",\"root_hash\":\"" << client::Hex(answer.checkpoint().root_hash())
              << "\",\"leaf_hash\":\"" << client::Hex(answer.leaf_hash())
              << "\",\"key_trusted\":" << (trusted ? "true" : "false")
              << ",\"message\":" << JsonQuote(r.message)
              << ",\"record\":" << ToJson(answer.record())
              << ",\"checkpoint_note\":" << JsonQuote(answer.checkpoint().note()) << "}"
              << std::endl;
    return kExitOk;
  }
  std::cout << r.message << (trusted ? "" : " (key not independently trusted)")
            << "\nleaf hash: " << client::Hex(answer.leaf_hash()) << "\n";
  PrintRecordDetail(answer.record());
  std::cout << std::flush;
  return kExitOk;
}

int RunExport(client::ExchangeClient& client, const AuditFlags& f, Format format) {
  client::LogFormat log_format;
  if (f.format.empty() ? !client::LogFormatFromPath(f.export_out, &log_format)
                       : !client::LogFormatFromName(f.format, &log_format)) {
    return Usage("--format jsonl|pb is needed unless --out ends in .jsonl or .pb");
  }
  v1::ExportLogRequest request;
  request.set_from_index(f.from_index);
  request.set_to_index(f.to_index);
  if (!f.checkpoint_out.empty()) {
    // Export exactly what one checkpoint covers, and keep that checkpoint with it.
    v1::SignedCheckpoint checkpoint;
    const grpc::Status s = client.GetCheckpoint(f.to_index, &checkpoint);
    if (!s.ok()) return ReportError(s, format);
    if (!WriteFile(f.checkpoint_out, checkpoint.note())) return CannotWrite(f.checkpoint_out);
    request.set_to_index(checkpoint.tree_size());
  }

  // Written aside and renamed when complete, so a failed export leaves no file that looks whole.
  const std::string partial = f.export_out + ".partial";
  std::ofstream out(partial, std::ios::binary | std::ios::trunc);
  if (!out) return CannotWrite(partial);
  client::LogWriter writer(&out, log_format);
  uint64_t count = 0;
  Status write_error;
  grpc::ClientContext context;
  const grpc::Status s = client.ExportLog(request, &context, [&](const v1::LogEntry& entry) {
    write_error = writer.Write(entry);
    if (!write_error.ok()) return false;
    ++count;
    return true;
  });
  out.close();
  if (!write_error.ok() || !s.ok() || !out) {
    std::remove(partial.c_str());
    if (!write_error.ok()) {
      if (write_error.code() == Code::kInternal) return CannotWrite(f.export_out);
      return ReportLocal(write_error, format);
    }
    if (!s.ok()) return ReportError(s, format);
    return CannotWrite(f.export_out);
  }
  if (std::rename(partial.c_str(), f.export_out.c_str()) != 0) {
    std::remove(partial.c_str());
    return CannotWrite(f.export_out);
  }
  if (format == Format::kJson) {
    std::cout << "{\"entries\":" << count << ",\"out\":" << JsonQuote(f.export_out)
              << ",\"format\":\"" << (log_format == client::LogFormat::kBinary ? "pb" : "jsonl")
              << "\"}" << std::endl;
  } else {
    std::cout << "exported " << count << " entries to " << f.export_out << std::endl;
  }
  return kExitOk;
}

int RunPolicyText(client::ExchangeClient& client, const AuditFlags& f, Format format) {
  v1::PolicyText text;
  if (grpc::Status s = client.GetPolicyText(f.policy_sha256, &text); !s.ok()) {
    return ReportError(s, format);
  }
  // The hash is what the signed log holds: the text is believed only if it has that hash.
  std::string wanted;
  for (char c : f.policy_sha256) wanted += static_cast<char>(std::tolower(c));
  if (ToHex(Sha256(text.text())) != wanted) {
    return ReportVerifyFailure("the text the server sent does not have the hash asked for", format);
  }
  if (f.policy_out.empty()) {
    std::cout << text.text();
    return kExitOk;
  }
  if (!WriteFile(f.policy_out, text.text())) return CannotWrite(f.policy_out);
  if (format == Format::kJson) {
    std::cout << "{\"name\":" << JsonQuote(text.name()) << ",\"out\":" << JsonQuote(f.policy_out)
              << "}" << std::endl;
  } else {
    std::cout << "wrote " << text.name() << " (" << text.text().size() << " bytes) to "
              << f.policy_out << std::endl;
  }
  return kExitOk;
}

int RunVerify(const AuditFlags& f, Format format) {
  client::LogFormat log_format;
  if (f.format.empty() ? !client::LogFormatFromPath(f.log_file, &log_format)
                       : !client::LogFormatFromName(f.format, &log_format)) {
    return Usage("--format jsonl|pb is needed unless --log ends in .jsonl or .pb");
  }
  std::string note;
  std::string key_text;
  std::string previous;
  if (!ReadFile(f.checkpoint_note, &note)) return CannotRead(f.checkpoint_note, format);
  if (!ReadKeyFile(f.key_file, &key_text)) return CannotRead(f.key_file, format);
  if (!f.previous_note.empty() && !ReadFile(f.previous_note, &previous)) {
    return CannotRead(f.previous_note, format);
  }
  std::vector<v1::LogEntry> entries;
  if (Status s = client::ReadLogFile(f.log_file, log_format, &entries); !s.ok()) {
    if (s.code() == Code::kNotFound) return CannotRead(f.log_file, format);
    return ReportLocal({s.code(), f.log_file + ": " + s.message()}, format);
  }
  const client::VerifyResult r = client::VerifyLog(
      entries, note, key_text,
      f.previous_note.empty() ? std::nullopt : std::optional<std::string_view>(previous));
  if (format == Format::kJson) {
    std::cout << "{\"ok\":" << (r.ok ? "true" : "false") << ",\"entries\":" << r.entries
              << ",\"tree_size\":" << r.tree_size << ",\"first_bad_index\":"
              << (r.first_bad_index ? std::to_string(*r.first_bad_index) : "null")
              << ",\"message\":" << JsonQuote(r.message) << "}" << std::endl;
  } else if (r.ok) {
    std::cout << r.message << std::endl;
  } else {
    std::cerr << "infoflyt: verification failed: " << r.message << "\n";
  }
  return r.ok ? kExitOk : kExitDataErr;
}

}  // namespace

void AddAuditCommands(CLI::App* audit, AuditFlags* f) {
  audit->require_subcommand(1);
  auto named = [f](CLI::App* cmd) {
    cmd->callback([cmd, f] { f->command = cmd->get_name(); });
    return cmd;
  };
  auto add_key = [f](CLI::App* cmd, const char* what) {
    return cmd->add_option("--key,--log-key", f->key_file, what);
  };

  auto* query = named(
      audit->add_subcommand("query", "list log records matching every filter given, oldest first"));
  query
      ->add_option("--national-id", f->national_id,
                   "only records about this person (or INFOFLYT_NATIONAL_ID, which stays out of "
                   "shell history)")
      ->envname("INFOFLYT_NATIONAL_ID");
  query->add_option("--party", f->party, "sender or recipient party, e.g. police/oslo");
  query->add_option("--basis", f->legal_basis, "legal basis id, e.g. strgjfl-4i");
  query->add_option("--type", f->message_type, "message type");
  query->add_option("--outcome", f->outcome, "disclosed, refused or read")
      ->check(CLI::IsMember({"disclosed", "refused", "read"}));
  query->add_option("--from", f->from_time, "occurred at or after this RFC 3339 time");
  query->add_option("--until", f->until_time, "occurred before this RFC 3339 time");
  query->add_option("--page-size", f->page_size, "records per page, 1-1000 (server default 100)")
      ->check(CLI::Range(1, 1000));
  query->add_option("--page-token", f->page_token, "continue from a previous page");
  query->add_flag("--all", f->all_pages, "follow page tokens to the end");

  auto* stats = named(audit->add_subcommand(
      "stats",
      "oversight statistics: records per day by event, basis and sender kind, and "
      "municipalities' times to acknowledge (no personal data)"));
  stats->add_option("--from", f->from_time, "from this RFC 3339 time (default: 30 days back)");
  stats->add_option("--until", f->until_time, "until this RFC 3339 time (default: now)");

  auto* subject = named(audit->add_subcommand(
      "subject", "subject access report: everything disclosed about one person"));
  subject
      ->add_option("--national-id", f->national_id,
                   "fødselsnummer or D-number (or INFOFLYT_NATIONAL_ID, which stays out of shell "
                   "history)")
      ->envname("INFOFLYT_NATIONAL_ID")
      ->required();

  auto* checkpoint = named(audit->add_subcommand(
      "checkpoint",
      "fetch and check a signed checkpoint; keep it to check later that the log "
      "only grew"));
  checkpoint->add_option("--size", f->tree_size,
                         "the checkpoint at this tree size (default: latest)");
  checkpoint->add_option("--out", f->note_out, "write the signed note, byte for byte, to FILE");
  checkpoint->add_option("--key-out", f->key_out, "write the log's verifier key to FILE");
  add_key(checkpoint,
          "check the signature against this verifier key file (default: the key "
          "the server sends, not independently trusted)");
  checkpoint->add_option("--previous", f->previous_note,
                         "a checkpoint note kept earlier: prove the log still extends it");

  auto* proof = named(audit->add_subcommand(
      "proof", "fetch the inclusion proof of one record and verify it locally"));
  proof->add_option("--index", f->index, "the record's log index")->required();
  proof->add_option("--size", f->tree_size,
                    "prove against the checkpoint at this size (default: "
                    "latest)");
  add_key(proof,
          "the log's verifier key file (default: the key the server sends, not "
          "independently trusted)");

  auto* export_log =
      named(audit->add_subcommand("export", "stream the log to a file for offline `audit verify`"));
  export_log->add_option("--out", f->export_out, "the file to write (.jsonl or .pb)")->required();
  export_log->add_option("--format", f->format, "jsonl or pb (default: by --out's extension)")
      ->check(CLI::IsMember({"jsonl", "pb"}));
  export_log->add_option("--from", f->from_index, "first index (default 0; verify needs 0)");
  export_log->add_option("--to", f->to_index,
                         "end index, exclusive (default: the latest checkpoint's size)");
  export_log->add_option("--checkpoint-out", f->checkpoint_out,
                         "also fetch the checkpoint at --to (default: latest), write its note "
                         "to FILE and export exactly up to its size");

  auto* policy_text = named(audit->add_subcommand(
      "policy-text", "fetch a text of the rules a \"policy\" record names by its SHA-256"));
  policy_text->add_option("sha256", f->policy_sha256, "the hash, as the record gives it")
      ->required();
  policy_text->add_option("--out", f->policy_out,
                          "write it, byte for byte, to FILE (default: "
                          "standard output)");

  auto* verify = named(audit->add_subcommand(
      "verify", "offline: check an export against a signed checkpoint (no server needed)"));
  verify->add_option("--log", f->log_file, "export file (.jsonl or .pb)")->required();
  verify->add_option("--checkpoint", f->checkpoint_note, "signed checkpoint note file")->required();
  add_key(verify, "the log's verifier key file, obtained independently")->required();
  verify->add_option("--previous", f->previous_note,
                     "an earlier checkpoint note kept by the auditor: the log must extend it");
  verify->add_option("--format", f->format, "jsonl or pb (default: by --log's extension)")
      ->check(CLI::IsMember({"jsonl", "pb"}));
  verify->footer(
      "Exit 0 if every entry matches its logged leaf and the signed root; 65 otherwise, naming\n"
      "the first bad entry. `infoflyt -o json audit verify ...` prints one object:\n"
      "{ok, entries, tree_size, first_bad_index, message}.");

  auto* verify_receipt = named(audit->add_subcommand(
      "verify-receipt",
      "offline: check a receipt saved by `infoflyt status --evidence` (no server needed)"));
  verify_receipt->add_option("file", f->evidence_file, "the saved evidence")->required();
  add_key(verify_receipt, "the log's verifier key file, obtained independently")->required();
  verify_receipt->footer(
      "Prints, for each recipient, when it was delivered and acknowledged the message, proven\n"
      "against one checkpoint signed by the key. Exit 0 if everything holds; 65 otherwise.");
}

bool AuditNeedsServer(const AuditFlags& flags) {
  return flags.command != "verify" && flags.command != "verify-receipt";
}

int RunAuditCommand(client::ExchangeClient* client, const AuditFlags& flags, Format format) {
  if (flags.command == "verify") return RunVerify(flags, format);
  if (flags.command == "verify-receipt") {
    return VerifyReceiptFile(flags.evidence_file, flags.key_file, format);
  }
  if (client == nullptr) return kExitSoftware;
  if (flags.command == "query") return RunQuery(*client, flags, format);
  if (flags.command == "subject") return RunSubject(*client, flags, format);
  if (flags.command == "stats") return RunStats(*client, flags, format);
  if (flags.command == "checkpoint") return RunCheckpoint(*client, flags, format);
  if (flags.command == "proof") return RunProof(*client, flags, format);
  if (flags.command == "export") return RunExport(*client, flags, format);
  if (flags.command == "policy-text") return RunPolicyText(*client, flags, format);
  return Usage("audit: unknown subcommand");
}

}  // namespace infoflyt::cli
