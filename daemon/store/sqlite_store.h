// The embedded default store: one SQLite file in WAL mode with synchronous=FULL, so a commit is
// on disk when Apply returns. One writer connection (writes are serialised by the group
// committer anyway) and a small pool of reader connections; WAL lets readers run beside it.
// WAL checkpoints run on a background connection, woken by the writer's WAL hook, so commits
// rarely wait for the database file to be updated; the writer itself copies only the last few
// frames, so that the WAL is fully checkpointed and restarts from its beginning.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "store/connection_pool.h"
#include "store/sqlite_db.h"
#include "store/store.h"
#include "store/store_core.h"

namespace infoflyt {

struct SqliteStoreOptions {
  std::string path;
  std::string instance;  // This daemon instance, recorded in every disclosure record.
  std::string version;   // The daemon's version, likewise.
  int readers = 4;
  // How long a read waits for a reader connection to come free before it is UNAVAILABLE.
  std::chrono::milliseconds reader_wait{10'000};
  int cache_mib = 16;  // Page cache of each connection.
  // WAL size (pages) at which the background checkpointer is woken. The default (~32 MiB) is
  // larger than SQLite's own (1000): a hot index page changed many times is then copied into
  // the database once.
  int checkpoint_pages = 8000;
};

class SqliteStore final : public Store {
 public:
  // Opens or creates the database and brings its schema to the current version. Refuses a
  // database whose schema is newer than this binary knows.
  // Refuses (FAILED_PRECONDITION) a file where SQLite does not keep WAL mode and full syncs,
  // e.g. on a file system without the shared memory WAL needs.
  static Status Open(const SqliteStoreOptions& options, std::unique_ptr<SqliteStore>* out);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Status Apply(std::span<WriteOp* const> ops, int64_t now) override;
  // journal_mode (the writer's: "wal"), synchronous (the writer's, which fsyncs each commit) and
  // checkpoint_synchronous (the background checkpointer's, which fsyncs the database before
  // the WAL may restart): all "full".
  const std::vector<DurabilitySetting>& durability() const override { return durability_; }
  Status ReadDeliveries(std::string_view party, uint64_t from_id, bool unacked_only, size_t limit,
                        std::vector<StoredDelivery>* out) override;
  Status ReadInbox(std::string_view party, size_t limit, std::vector<StoredDelivery>* out) override;
  Status GetMessageState(std::string_view message_id, std::string_view party,
                         MessageState* out) override;
  Status ListFlags(std::string_view subject_hash, bool include_inactive, int64_t now,
                   std::vector<FlagInfo>* out) override;
  Status ListOverdue(int64_t now, size_t limit, std::vector<OverdueDelivery>* out) override;
  Status NextDeadline(std::optional<int64_t>* out) override;
  Status CountRecords(const RecordFilter& filter, std::vector<RecordCount>* counts,
                      std::vector<MunicipalityAck>* acks) override;
  Status QueryLog(const RecordFilter& filter, uint64_t from_index, size_t limit,
                  std::vector<LogEntry>* out) override;
  Status ReadLog(uint64_t from_index, uint64_t to_index, size_t limit,
                 std::vector<LogEntry>* out) override;
  Status GetCheckpoint(uint64_t tree_size, StoredCheckpoint* out) override;
  Status GetPolicyText(std::string_view sha256, PolicyText* out) override;
  Status RecordSharedKeys(const SharedKeys& mine, int64_t now, SharedKeys* recorded) override;
  void SetDataKeys(std::shared_ptr<const DataKeys> keys) override {
    core_.SetDataKeys(std::move(keys));
  }
  Status RecordDataKeys(const std::vector<DataKeys::Check>& mine, int64_t now,
                        std::vector<DataKeys::Check>* recorded) override;
  Status InclusionProof(uint64_t index, uint64_t tree_size,
                        std::vector<std::string>* proof) override;
  Status ConsistencyProof(uint64_t size1, uint64_t size2, std::vector<std::string>* proof) override;
  uint64_t LogSize() const override { return core_.LogSize(); }

 private:
  // Appends the rows of a delivery query (ReadDeliveries' columns) to `out`.
  static Status ReadDeliveryRows(SqliteDb& db, SqliteStatement& q,
                                 std::vector<StoredDelivery>* out);
  explicit SqliteStore(SqliteStoreOptions options);

  Status LoadFlaggedSubjects();
  // Loads the log's right edge and appends records written before the log existed.
  Status OpenLog();
  // Reads journal_mode and synchronous back from the writer and the checkpointer.
  Status ReadBackDurability();

  // The writer's rows, for the core.
  class Rows;

  // Called by SQLite after each commit with the WAL's size in pages.
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int pages);
  // After a commit that left `wal_pages` in the WAL: wakes the background checkpointer, or, once
  // it has copied nearly all of them, copies the rest on the writer.
  void AfterCommit(int wal_pages);
  void NoteWalRestart();  // With checkpoint_mu_ held.
  void RunCheckpointer();

  SqliteStoreOptions options_;
  std::unique_ptr<SqliteDb> writer_;
  StoreCore core_;  // Writes through rows_, on the writer only.
  std::unique_ptr<Rows> rows_;
  using ReaderPool = ConnectionPool<SqliteDb>;
  // An idle reader must hold no snapshot: it would keep checkpoints from the WAL's end.
  ReaderPool readers_{options_.reader_wait, [](SqliteDb& db) { db.ResetStatements(); }};

  // Every subject that has or had a flag, so that a post about anyone else (nearly every post)
  // needs no flag lookup. Flags are never deleted, so it only grows. Only this store writes the
  // file (one daemon per SQLite database); a flag written behind its back, with the sqlite3
  // shell say, is seen after a restart.
  std::mutex flagged_mu_;
  std::unordered_set<std::string> flagged_subjects_;

  std::unique_ptr<SqliteDb> checkpointer_db_;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;
  bool stopping_ = false;
  // WAL frames the background checkpointer has copied into the database, counted in the WAL as
  // it was when the writer last restarted it (wal_restarts_), so a late report cannot count frames
  // of an older WAL.
  int backfilled_frames_ = 0;
  bool background_reported_ = false;  // A background pass ended since the writer last tried.
  uint64_t wal_restarts_ = 0;
  int last_wal_pages_ = 0;  // Writer only: the WAL's size after the previous commit.
  std::vector<DurabilitySetting> durability_;  // Read back at open.
  std::thread checkpointer_;
};

}  // namespace infoflyt
