// Disclosure-log benchmark on the real store (not a test). Each run appends --records records to
// a fresh SQLite store through the same write path as the daemon (one disclosure record per op,
// --batch ops per durable transaction, each record a leaf of the Merkle tree in the same
// transaction), signs a checkpoint with an Ed25519 note key, then times inclusion proofs from
// the stored nodes (generation + verification), an export of the whole log to a file in
// `infoflyt audit export`'s binary format, and the offline audit of that file by the code
// `infoflyt audit verify` runs (client::ReadLogFile and client::VerifyLog: every record against
// its leaf hash, the root against the signed checkpoint).
// Baseline, measured in the same run on the same disk: the same number of rows of the same size
// inserted into a plain SQLite table with the same batching, so the ratio shows what the log
// and its indexes cost. A second baseline, SQLite's floor, inserts the same rows into the
// store's own table and indexes without the log, so its ratio shows what the log itself costs.
// Ratios are medians of each run's own ratio; other figures are medians of --runs runs.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "bench/filesystem.h"
#include "log_file.h"
#include "log_verify.h"
#include "merkle/proof.h"
#include "merkle/record_leaf.h"
#include "merkle/signed_note.h"
#include "store/sqlite_db.h"
#include "store/sqlite_schema.h"
#include "store/sqlite_store.h"
#include "test_data_keys.h"

namespace infoflyt {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

bool Check(const Status& s, const char* what) {
  if (!s.ok()) std::fprintf(stderr, "%s: %s\n", what, s.message().c_str());
  return s.ok();
}

// A record shaped like a real one: an auditor's read with a subject hash and a reason.
CallRecordOp Record(uint64_t i) {
  CallRecordOp op;
  op.party = "auditor/riksrevisjonen";
  op.certificate_subject = "CN=riksrevisjonen,O=Riksrevisjonen";
  op.certificate_fingerprint = std::string(64, 'f');
  op.subject_hash = std::string(32, static_cast<char>(i % 251));
  op.reason = "QueryDisclosures party=police/oslo page_token=" + std::to_string(i);
  return op;
}

// Opens `path` in WAL mode with synchronous=FULL and runs `setup`; null if that fails.
std::unique_ptr<SqliteDb> OpenBaseline(const fs::path& path,
                                       const std::function<Status(SqliteDb&)>& setup) {
  std::unique_ptr<SqliteDb> db;
  if (!Check(SqliteDb::Open(path.string(), &db), "baseline open")) return nullptr;
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"}) {
    if (!Check(db->Exec(sql), sql)) return nullptr;
  }
  if (!Check(setup(*db), "baseline schema")) return nullptr;
  return db;
}

// Rows/s of `insert(db, i)` for i in [0, records), `batch` to a durable transaction, as the
// log is written; 0 if any statement fails.
double BatchedRowsPerSecond(SqliteDb& db, uint64_t records, size_t batch,
                            const std::function<SqliteStatement&(SqliteDb&, uint64_t)>& insert) {
  const auto start = Clock::now();
  for (uint64_t i = 0; i < records;) {
    if (!Check(db.Run("BEGIN"), "baseline begin")) return 0;
    for (size_t n = 0; n < batch && i < records; ++n, ++i) {
      if (insert(db, i).Step() != SQLITE_DONE) {
        std::fprintf(stderr, "baseline insert: %s\n", db.LastError().c_str());
        return 0;
      }
    }
    if (!Check(db.Run("COMMIT"), "baseline commit")) return 0;
  }
  return static_cast<double>(records) / Seconds(start);
}

// Rows of about the record's size into a table with no log and no indexes.
double BaselineRowsPerSecond(const fs::path& dir, uint64_t records, size_t batch) {
  const auto db = OpenBaseline(dir / "baseline.db", [](SqliteDb& d) {
    return d.Exec("CREATE TABLE rows (id INTEGER PRIMARY KEY, data BLOB)");
  });
  if (!db) return 0;
  const std::string data(260, 'x');
  return BatchedRowsPerSecond(
      *db, records, batch, [&](SqliteDb & d, uint64_t) -> auto& {
        return d.Prepare("INSERT INTO rows (data) VALUES (?)").BindBlob(1, data);
      });
}

// SQLite's own floor for these appends: the same rows inserted by one SQL statement each into
// the store's own disclosures table with all its indexes (the real schema, migrated), with no
// Merkle log, hashing or record building.
double IndexedRowsPerSecond(const fs::path& dir, uint64_t records, size_t batch) {
  const auto db = OpenBaseline(dir / "indexed.db", MigrateSqliteSchema);
  if (!db) return 0;
  return BatchedRowsPerSecond(
      *db, records, batch, [](SqliteDb & d, uint64_t i) -> auto& {
        const CallRecordOp r = Record(i);
        auto& q = d.Prepare(
            "INSERT INTO disclosures (id, occurred_at, event, outcome, message_id, sender, "
            "recipient, subject_hash, message_type, legal_basis, legal_citation, handling, view, "
            "content_hash, reason, sender_certificate_subject, sender_certificate_fingerprint, "
            "instance, version) VALUES (?, ?, 'read', 'allow', '', ?, '', ?, '', '', '', '', '', "
            "x'', ?, ?, ?, 'bench', '0')");
        q.Bind(1, static_cast<int64_t>(i) + 1).Bind(2, static_cast<int64_t>(i));
        q.Bind(3, r.party).BindBlob(4, r.subject_hash).Bind(5, r.reason);
        return q.Bind(6, r.certificate_subject).Bind(7, r.certificate_fingerprint);
      });
}

// Writes the whole log to `path` as `infoflyt audit export` does (binary format).
bool ExportLog(Store& store, uint64_t tree_size, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  client::LogWriter writer(&out, client::LogFormat::kBinary);
  for (uint64_t from = 0; from < tree_size;) {
    std::vector<LogEntry> entries;
    if (!Check(store.ReadLog(from, tree_size, 10000, &entries), "export read")) return false;
    if (entries.empty()) return false;
    for (LogEntry& e : entries) {
      v1::LogEntry entry;
      *entry.mutable_record() = std::move(e.record);
      entry.set_leaf_hash(std::move(e.leaf_hash));
      if (!Check(writer.Write(entry), "export write")) return false;
    }
    from += entries.size();
  }
  out.close();
  return static_cast<bool>(out);
}

struct RunResult {
  double appends_per_second = 0;
  double last_tenth_per_second = 0;  // The appends of the last tenth of the records alone.
  double baseline_per_second = 0;
  double indexed_per_second = 0;  // SQLite's floor: the log's table and indexes, no log.
  double query_ms = 0;            // The first page (100) of one person's records.
  double inclusion_us = 0;
  double export_seconds = 0;
  double verify_seconds = 0;
  size_t proof_hashes = 0;
};

bool Run(const fs::path& dir, uint64_t records, size_t batch, int proofs, std::mt19937_64* random,
         RunResult* out) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  out->baseline_per_second = BaselineRowsPerSecond(dir, records, batch);
  if (out->baseline_per_second == 0) return false;
  out->indexed_per_second = IndexedRowsPerSecond(dir, records, batch);
  if (out->indexed_per_second == 0) return false;
  std::unique_ptr<SqliteStore> store;
  if (!Check(SqliteStore::Open({(dir / "log.db").string(), "bench", "0", 2}, &store), "open")) {
    return false;
  }
  store->SetDataKeys(testing::TestDataKeys());
  auto start = Clock::now();
  Clock::time_point last_tenth = start;
  std::vector<WriteOp> ops;
  std::vector<WriteOp*> ptrs;
  for (uint64_t i = 0; i < records;) {
    if (i <= records - records / 10) last_tenth = Clock::now();
    ops.clear();
    ptrs.clear();
    for (size_t n = 0; n < batch && i < records; ++n, ++i) ops.emplace_back(Record(i));
    for (auto& op : ops) ptrs.push_back(&op);
    if (!Check(store->Apply(ptrs, static_cast<int64_t>(i)), "append")) return false;
  }
  out->appends_per_second = static_cast<double>(records) / Seconds(start);
  out->last_tenth_per_second = static_cast<double>(records / 10) / Seconds(last_tenth);

  std::unique_ptr<merkle::NoteSigner> signer;
  if (!Check(merkle::NoteSigner::Generate("bench.infoflyt.test/disclosures", &signer), "key")) {
    return false;
  }
  CheckpointOp checkpoint;
  checkpoint.sign = [&signer](uint64_t size, const std::string& root, std::string* note) {
    std::string text;
    if (Status s = merkle::Checkpoint{signer->name(), size, root, {}}.Format(&text); !s.ok()) {
      return s;
    }
    return signer->SignNote(text, note);
  };
  std::vector<WriteOp> cp{std::move(checkpoint)};
  WriteOp* cp_ptr = cp.data();
  if (!Check(store->Apply({&cp_ptr, 1}, 0), "checkpoint")) return false;
  const StoredCheckpoint head = std::get<CheckpointOp>(cp[0]).checkpoint;

  std::uniform_int_distribution<uint64_t> pick(0, records - 1);
  std::vector<double> times;
  for (int p = 0; p < proofs; ++p) {
    const uint64_t index = pick(*random);
    const auto t = Clock::now();
    std::vector<LogEntry> entry;
    std::vector<std::string> proof;
    if (!Check(store->ReadLog(index, index + 1, 1, &entry), "read") ||
        !Check(store->InclusionProof(index, head.tree_size, &proof), "prove") ||
        !Check(merkle::VerifyInclusion(merkle::RecordLeafHash(entry.at(0).record), index,
                                       head.tree_size, proof, head.root),
               "verify")) {
      return false;
    }
    times.push_back(Seconds(t) * 1e6);
    out->proof_hashes = proof.size();
  }
  out->inclusion_us = Median(times);

  // An auditor's query by person: 1 in 251 records is about each subject (Record above).
  std::uniform_int_distribution<int> person(0, 250);
  times.clear();
  for (int q = 0; q < proofs; ++q) {
    RecordFilter filter;
    filter.subject_hash = std::string(32, static_cast<char>(person(*random)));
    std::vector<v1::DisclosureRecord> found;
    const auto t = Clock::now();
    if (!Check(store->QueryRecords(filter, 0, 100, &found), "query") || found.empty()) {
      return false;
    }
    times.push_back(Seconds(t) * 1e3);
  }
  out->query_ms = Median(times);

  const std::string export_path = (dir / "log.pb").string();
  start = Clock::now();
  if (!ExportLog(*store, head.tree_size, export_path)) return false;
  out->export_seconds = Seconds(start);

  // What `infoflyt audit verify --log log.pb --checkpoint ... --key ...` runs.
  start = Clock::now();
  std::vector<v1::LogEntry> exported;
  if (!Check(client::ReadLogFile(export_path, client::LogFormat::kBinary, &exported), "read")) {
    return false;
  }
  const client::VerifyResult verified =
      client::VerifyLog(exported, head.note, signer->VerifierKey());
  if (!verified.ok || verified.tree_size != head.tree_size) {
    std::fprintf(stderr, "audit verify failed: %s\n", verified.message.c_str());
    return false;
  }
  out->verify_seconds = Seconds(start);
  return true;
}

}  // namespace
}  // namespace infoflyt

int main(int argc, char** argv) {
  CLI::App app{"Disclosure-log benchmark: appends, proofs and offline verification on SQLite"};
  uint64_t records = 1'000'000;
  size_t batch = 1000;
  int runs = 3;
  int proofs = 1000;
  bool allow_tmpfs = false;
  std::string dir = (std::filesystem::temp_directory_path() / "infoflyt-log-bench").string();
  app.add_option("--records", records, "records appended per run")->check(CLI::PositiveNumber);
  app.add_option("--batch", batch, "records per durable transaction")->check(CLI::PositiveNumber);
  app.add_option("--runs", runs, "runs; medians are reported")->check(CLI::PositiveNumber);
  app.add_option("--proofs", proofs, "inclusion proofs per run")->check(CLI::PositiveNumber);
  app.add_option("--dir", dir, "scratch directory (removed)");
  app.add_flag("--allow-tmpfs", allow_tmpfs,
               "measure even if --dir is on tmpfs (fsync there is free)");
  CLI11_PARSE(app, argc, argv);
  std::filesystem::create_directories(dir);
  if (!infoflyt::bench::ReportDataFileSystem("data directory", dir, allow_tmpfs)) return 2;

  std::mt19937_64 random(42);
  std::vector<double> appends;
  std::vector<double> ratios;
  std::vector<double> baseline;
  std::vector<double> floor_ratios;
  std::vector<double> inclusion;
  std::vector<double> exports;
  std::vector<double> verify;
  std::vector<double> last_tenth;
  std::vector<double> queries;
  size_t hashes = 0;
  for (int r = 0; r < runs; ++r) {
    infoflyt::RunResult result;
    if (!infoflyt::Run(dir, records, batch, proofs, &random, &result)) return 1;
    std::printf(
        "run %d: %.0f appends/s (the last tenth %.0f/s; baseline %.0f rows/s, ratio %.3f; "
        "SQLite's floor %.0f rows/s), inclusion %.1f us, query by person %.2f ms, export %.2f s, "
        "audit verify %.2f s\n",
        r + 1, result.appends_per_second, result.last_tenth_per_second, result.baseline_per_second,
        result.appends_per_second / result.baseline_per_second, result.indexed_per_second,
        result.inclusion_us, result.query_ms, result.export_seconds, result.verify_seconds);
    last_tenth.push_back(result.last_tenth_per_second);
    queries.push_back(result.query_ms);
    appends.push_back(result.appends_per_second);
    ratios.push_back(result.appends_per_second / result.baseline_per_second);
    baseline.push_back(result.baseline_per_second);
    floor_ratios.push_back(result.appends_per_second / result.indexed_per_second);
    inclusion.push_back(result.inclusion_us);
    exports.push_back(result.export_seconds);
    verify.push_back(result.verify_seconds);
    hashes = result.proof_hashes;
  }
  std::filesystem::remove_all(dir);
  using infoflyt::Median;
  const auto [lowest, highest] = std::minmax_element(ratios.begin(), ratios.end());
  std::printf("records per run:           %llu (batches of %zu, synchronous=FULL)\n",
              static_cast<unsigned long long>(records), batch);
  std::printf("log appends/s (median):    %.0f (the last tenth of the records: %.0f/s)\n",
              Median(appends), Median(last_tenth));
  std::printf("baseline rows/s (median):  %.0f   ratio log/baseline %.3f (runs %.3f-%.3f)\n",
              Median(baseline), Median(ratios), *lowest, *highest);
  std::printf(
      "SQLite's floor (median):   ratio log/floor %.3f (the same rows into the log's own table "
      "and indexes by plain INSERTs, no log)\n",
      Median(floor_ratios));
  std::printf("inclusion proof (median):  %.1f us (read + prove + verify, %zu hashes)\n",
              Median(inclusion), hashes);
  std::printf("query by person (median):  %.2f ms (the first 100 of one person's records)\n",
              Median(queries));
  std::printf("export to a file (median): %.2f s (audit export's binary format, from the store)\n",
              Median(exports));
  std::printf(
      "audit verify (median):     %.2f s for the exported file (%.0f records/s: read, "
      "every leaf, signed root)\n",
      Median(verify), static_cast<double>(records) / Median(verify));
  return 0;
}
