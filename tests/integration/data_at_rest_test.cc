// Data protection at rest on the real daemon (embedded SQLite): what a copied database file
// reveals (no body in clear), a data key that cannot silently change and can be rotated, and a
// body changed on disk going out marked unreadable while the stream goes on past it.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "integration/subscriber.h"
#include "integration/test_daemon.h"
#include "test_util.h"
#include "unit/test_envelopes.h"

namespace infoflyt::testing {
namespace {

namespace fs = std::filesystem;

class DataAtRestTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(daemon_.Start()) << daemon_.Log(); }

  std::string Post(const std::string& key) {
    grpc::Status s;
    const std::string id = daemon_.PostReleaseNotice(key, &s);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return id;
  }
  // Everything a thief copying the store's files gets: the database, its WAL.
  std::string StoreFiles() const {
    return ReadFile(daemon_.db_path()) + ReadFile(daemon_.db_path() + "-wal");
  }
  // Changes one byte in the middle of the stored envelope of delivery `id`, as a bad disk
  // would (the daemon stopped).
  void FlipByteOfEnvelope(uint64_t id) const {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(daemon_.db_path().c_str(), &db), SQLITE_OK);
    const std::string sql =
        "UPDATE deliveries SET envelope = substr(envelope, 1, 40) || "
        "(CASE WHEN substr(envelope, 41, 1) = x'00' THEN x'01' ELSE x'00' "
        "END) || substr(envelope, 42) WHERE id = " +
        std::to_string(id);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_changes(db), 1);
    sqlite3_close(db);
  }

  // Copies the stored envelope of delivery `from` over that of delivery `to` (the daemon
  // stopped), as someone moving a body between rows would.
  void CopyEnvelope(uint64_t from, uint64_t to) const {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(daemon_.db_path().c_str(), &db), SQLITE_OK);
    const std::string sql =
        "UPDATE deliveries SET envelope = (SELECT envelope FROM deliveries WHERE id = " +
        std::to_string(from) + ") WHERE id = " + std::to_string(to);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_changes(db), 1);
    sqlite3_close(db);
  }

  TestDaemon daemon_;
};

TEST_F(DataAtRestTest, ACopiedStoreHoldsNoNameIdentityNumberOrNote) {
  const std::string id = Post("stolen");
  // Still delivered whole, with each recipient's view.
  auto police = daemon_.Client("police-oslo");
  Subscriber subscriber(police.get());
  ASSERT_TRUE(subscriber.WaitForMessage(id));
  const v1::Delivery d = subscriber.deliveries().at(0);
  EXPECT_FALSE(d.unreadable());
  EXPECT_EQ(d.envelope().release_notice().person().family_name(), "Nordmann");
  EXPECT_EQ(d.envelope().release_notice().note(), "Risk assessment attached to case 2026/17.");
  subscriber.Stop();
  for (bool stopped : {false, true}) {
    if (stopped) {
      ASSERT_EQ(daemon_.Terminate(), 0);  // Everything checkpointed into the file.
    }
    const std::string files = StoreFiles();
    ASSERT_GT(files.size(), 4096u);
    // Named by position in failures: the identity number is never printed.
    const std::vector<std::string> secrets = {"Nordmann", kValidFnr, "Risk assessment", "Kari Vakt",
                                              "Ola"};
    for (size_t i = 0; i < secrets.size(); ++i) {
      EXPECT_EQ(files.find(secrets[i]), std::string::npos) << "in clear: secret " << i;
    }
  }
}

TEST_F(DataAtRestTest, AMissingOrOtherDataKeyOnAUsedStoreRefusesToStart) {
  Post("before");
  ASSERT_EQ(daemon_.Terminate(), 0);
  const std::string path = daemon_.data_key_path();
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  fs::rename(path, path + ".kept");
  EXPECT_FALSE(daemon_.Start());
  EXPECT_NE(daemon_.Log().find("store.data_key_file " + path +
                               " (the data key, which opens the stored message bodies) is "
                               "missing"),
            std::string::npos)
      << daemon_.Log();
  EXPECT_FALSE(fs::exists(path)) << "a new key was made";
  std::ofstream(path) << std::string(64, 'a') << "\n";
  EXPECT_FALSE(daemon_.Start());
  EXPECT_NE(daemon_.Log().find("store.data_key_file " + path + " lacks data key "),
            std::string::npos)
      << daemon_.Log();
  fs::rename(path + ".kept", path);
  ASSERT_TRUE(daemon_.Start()) << daemon_.Log();
}

TEST_F(DataAtRestTest, ARotatedKeySealsNewBodiesAndOldOnesAreResealedAndStillRead) {
  const std::string first = Post("first");
  ASSERT_EQ(daemon_.Terminate(), 0);
  const std::string before = ReadFile(daemon_.data_key_path());
  const CliResult rotated = daemon_.RunOnce("rotate-data-key");
  ASSERT_EQ(rotated.exit_code, 0) << rotated.out;
  const std::string after = ReadFile(daemon_.data_key_path());
  ASSERT_EQ(after.substr(0, before.size()), before) << "an old key was dropped";
  const std::string new_key = after.substr(before.size(), 64);
  EXPECT_NE(rotated.out.find("added data key "), std::string::npos) << rotated.out;
  ASSERT_TRUE(daemon_.Start()) << daemon_.Log();
  EXPECT_TRUE(Eventually([&] {
    return daemon_.Log().find("no envelope is sealed under an older key any longer") !=
           std::string::npos;
  })) << daemon_.Log();
  const std::string second = Post("second");
  auto police = daemon_.Client("police-oslo");
  Subscriber subscriber(police.get());
  ASSERT_TRUE(subscriber.WaitForMessage(second));
  for (const v1::Delivery& d : subscriber.deliveries()) {
    EXPECT_FALSE(d.unreadable()) << d.message_id();
    EXPECT_EQ(d.envelope().release_notice().person().family_name(), "Nordmann");
  }
  EXPECT_TRUE(subscriber.WaitForMessage(first));
  subscriber.Stop();
  // The old key dropped from the file: refused, since the store recorded it.
  ASSERT_EQ(daemon_.Terminate(), 0);
  std::ofstream(daemon_.data_key_path(), std::ios::trunc) << new_key << "\n";
  EXPECT_FALSE(daemon_.Start());
  EXPECT_NE(daemon_.Log().find(" lacks data key "), std::string::npos) << daemon_.Log();
}

TEST_F(DataAtRestTest, AChangedBodyGoesOutUnreadableAndTheStreamGoesOnPastIt) {
  const std::string bad = Post("bad");
  const std::string good = Post("good");
  auto police = daemon_.Client("police-oslo");
  uint64_t bad_delivery = 0;
  {
    Subscriber subscriber(police.get());
    ASSERT_TRUE(subscriber.WaitFor(2));
    bad_delivery = subscriber.deliveries().at(0).delivery_id();
  }
  ASSERT_EQ(daemon_.Terminate(), 0);
  FlipByteOfEnvelope(bad_delivery);
  ASSERT_TRUE(daemon_.Start()) << daemon_.Log();
  police = daemon_.Client("police-oslo");
  Subscriber subscriber(police.get());
  ASSERT_TRUE(subscriber.WaitForMessage(good));
  const std::vector<v1::Delivery> got = subscriber.deliveries();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].message_id(), bad);
  EXPECT_TRUE(got[0].unreadable());
  EXPECT_FALSE(got[0].has_envelope());
  EXPECT_FALSE(got[1].unreadable());
  EXPECT_EQ(got[1].envelope().release_notice().person().family_name(), "Nordmann");
  subscriber.Stop();
  EXPECT_NE(LineWith(daemon_.Log(), {"level=error", "event=unreadable_delivery delivery=" +
                                                        std::to_string(bad_delivery)}),
            "")
      << daemon_.Log();
  EXPECT_GE(MetricValue(daemon_.Metrics(), "infoflyt_unreadable_deliveries_total"), 1);
  // The sender sees which recipient got it unreadable, and may post again.
  v1::MessageStatus status;
  auto sender = daemon_.Client("correctional-oslo-fengsel");
  ASSERT_TRUE(Eventually([&] {
    status.Clear();
    if (!sender->GetMessageStatus(bad, &status).ok()) return false;
    for (const v1::RecipientStatus& r : status.recipients()) {
      if (r.party() == "police/oslo") return r.has_unreadable_at();
    }
    return false;
  })) << status.DebugString();
  for (const v1::RecipientStatus& r : status.recipients()) {
    if (r.party() != "police/oslo") {
      EXPECT_FALSE(r.has_unreadable_at()) << r.party();
    }
  }
}

// A body moved into another message's row does not open there: that delivery goes out
// unreadable, and the stream goes on to the next.
TEST_F(DataAtRestTest, ABodyMovedToAnotherMessageIsReportedNotServed) {
  const std::string first = Post("first");
  const std::string second = Post("second");
  const std::string third = Post("third");
  auto police = daemon_.Client("police-oslo");
  std::vector<uint64_t> ids;
  {
    Subscriber subscriber(police.get());
    ASSERT_TRUE(subscriber.WaitForMessage(third));
    for (const v1::Delivery& d : subscriber.deliveries()) ids.push_back(d.delivery_id());
  }
  ASSERT_EQ(ids.size(), 3u);
  ASSERT_EQ(daemon_.Terminate(), 0);
  CopyEnvelope(ids[0], ids[1]);
  ASSERT_TRUE(daemon_.Start()) << daemon_.Log();
  police = daemon_.Client("police-oslo");
  Subscriber subscriber(police.get());
  ASSERT_TRUE(subscriber.WaitForMessage(third));
  const std::vector<v1::Delivery> got = subscriber.deliveries();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].message_id(), first);
  EXPECT_FALSE(got[0].unreadable());
  EXPECT_EQ(got[1].message_id(), second);
  EXPECT_TRUE(got[1].unreadable());
  EXPECT_FALSE(got[1].has_envelope());
  EXPECT_FALSE(got[2].unreadable());
  EXPECT_NE(LineWith(daemon_.Log(), {"level=error", "event=unreadable_delivery delivery=" +
                                                        std::to_string(ids[1])}),
            "")
      << daemon_.Log();
}

// A backup taken while posts flow restores to a store holding every message receipted before it;
// the restored log verifies, extends a checkpoint kept before the backup, and is reported as
// not extending one kept after it: the auditor sees the rollback.
TEST_F(DataAtRestTest, ABackupTakenWhilePostingRestoresAndTheRollbackIsSeen) {
  const std::string kAuditor = "auditor-eos-utvalget";
  const std::string key = daemon_.log_key_path() + ".pub";
  const std::string dir = fs::path(daemon_.db_path()).parent_path();
  Post("first");
  auto checkpoint = [&](const std::string& note) {
    return daemon_.Cli(kAuditor, "audit checkpoint --out " + note + " --key " + key);
  };
  ASSERT_TRUE(
      Eventually([&] { return daemon_.CountRows("checkpoints") > 0; }, std::chrono::seconds(10)));
  ASSERT_EQ(checkpoint(dir + "/before.note").exit_code, 0);
  // Posts flow on another thread; those receipted before the backup starts must be in it.
  std::mutex mu;
  std::vector<std::string> receipted;
  std::atomic<bool> stop{false};
  std::thread poster([&] {
    auto client = daemon_.Client("correctional-oslo-fengsel");
    for (int i = 0; !stop; ++i) {
      v1::Receipt receipt;
      if (client->Post(ReleaseNotice("flow-" + std::to_string(i)), &receipt).ok()) {
        std::lock_guard lock(mu);
        receipted.push_back(receipt.message_id());
      }
    }
  });
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard lock(mu);
    return receipted.size() >= 20;
  }));
  std::vector<std::string> before_backup;
  {
    std::lock_guard lock(mu);
    before_backup = receipted;
  }
  const std::string backup = dir + "/backup.db";
  const CliResult backed_up = daemon_.RunOnce("backup --to " + backup);
  ASSERT_EQ(backed_up.exit_code, 0) << backed_up.out;
  EXPECT_NE(backed_up.out.find("backed up "), std::string::npos) << backed_up.out;
  EXPECT_EQ(fs::status(backup).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  // A second backup never replaces the first.
  EXPECT_EQ(daemon_.RunOnce("backup --to " + backup).exit_code, 73);
  const int64_t size_at_backup = daemon_.CountRows("disclosures");
  ASSERT_TRUE(Eventually(
      [&] {
        return daemon_.CountRows("checkpoints") > 0 &&
               daemon_.CountRows("disclosures") > size_at_backup + 20;
      },
      std::chrono::seconds(20)));
  stop = true;
  poster.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // A checkpoint of the growth.
  ASSERT_EQ(checkpoint(dir + "/after.note").exit_code, 0);
  ASSERT_EQ(daemon_.Terminate(), 0);

  // Restore: the copy in place of the database (its WAL and shared memory gone), keys kept.
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(daemon_.db_path() + suffix);
  fs::copy_file(backup, daemon_.db_path());
  ASSERT_TRUE(daemon_.Start()) << daemon_.Log();
  auto sender = daemon_.Client("correctional-oslo-fengsel");
  for (const std::string& id : before_backup) {
    v1::MessageStatus status;
    EXPECT_TRUE(sender->GetMessageStatus(id, &status).ok()) << "lost in the backup: " << id;
  }
  CliResult r = daemon_.Cli(
      kAuditor, "audit checkpoint --previous " + dir + "/before.note" + " --key " + key);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  r = daemon_.Cli(kAuditor, "audit checkpoint --previous " + dir + "/after.note" + " --key " + key);
  EXPECT_EQ(r.exit_code, 65) << r.out;
  EXPECT_NE(r.out.find("not consistent with the earlier checkpoint (truncated or forked)"),
            std::string::npos)
      << r.out;
  r = daemon_.Cli(kAuditor,
                  "audit export --out " + dir + "/log.jsonl --checkpoint-out " + dir + "/log.note");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = daemon_.Cli(kAuditor, "audit verify --log " + dir + "/log.jsonl --checkpoint " + dir +
                                "/log.note --key " + key + " --previous " + dir + "/before.note");
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

// A disclosure record changed in the database file is found by the scrub at start: an error
// line naming its index, the gauge, and /healthz failing; an unchanged store scrubs clean.
TEST_F(DataAtRestTest, ARecordChangedOnDiskIsReportedByTheScrubAndHealthz) {
  const std::string id = Post("scrubbed");
  ASSERT_TRUE(Eventually([&] { return daemon_.CountRows("checkpoints") > 0; }));
  ASSERT_EQ(daemon_.Terminate(), 0);
  ASSERT_TRUE(daemon_.Start()) << daemon_.Log();
  ASSERT_TRUE(Eventually([&] { return daemon_.Log().find("log scrub: ") != std::string::npos; }))
      << daemon_.Log();
  EXPECT_EQ(MetricValue(daemon_.Metrics(), "infoflyt_log_scrub_changed_records"), 0);
  ASSERT_EQ(daemon_.Terminate(), 0);
  // The message id in its disclosure records (and its message row), one character changed.
  std::string db = ReadFile(daemon_.db_path());
  size_t copies = 0;
  for (size_t at = db.find(id); at != std::string::npos; at = db.find(id, at + 1)) {
    db[at + 30] = db[at + 30] == 'a' ? 'b' : 'a';
    ++copies;
  }
  ASSERT_GE(copies, 2u);
  std::ofstream(daemon_.db_path(), std::ios::binary | std::ios::trunc) << db;
  ASSERT_TRUE(daemon_.Start()) << daemon_.Log();
  ASSERT_TRUE(Eventually([&] {
    return daemon_.Log().find("event=log_scrub_mismatch ") != std::string::npos;
  })) << daemon_.Log();
  EXPECT_NE(LineWith(daemon_.Log(), {"level=error",
                                     "disclosure records changed since they were "
                                     "logged:"}),
            "")
      << daemon_.Log();
  EXPECT_GE(MetricValue(daemon_.Metrics(), "infoflyt_log_scrub_changed_records"), 1);
  int http = 0;
  const std::string health = daemon_.Healthz(&http);
  EXPECT_EQ(http, 503) << health;
  EXPECT_NE(health.find("failing log: "), std::string::npos) << health;
  // Audit queries serve the changed records marked as changed, never as if they were good.
  const CliResult query = daemon_.Cli("auditor-eos-utvalget", "audit query --all");
  EXPECT_EQ(query.exit_code, 65) << query.out;
  EXPECT_NE(query.out.find("CHANGED SINCE IT WAS LOGGED"), std::string::npos) << query.out;
  EXPECT_NE(LineWith(daemon_.Log(), {"level=error", "event=changed_record_served index=",
                                     "reader=auditor/eos-utvalget"}),
            "")
      << daemon_.Log();
  EXPECT_GE(MetricValue(daemon_.Metrics(), "infoflyt_changed_records_served_total"), 1);
  // Nor is receipt evidence built on them: the changed records now name this message id.
  std::string changed_id = id;
  changed_id[30] = changed_id[30] == 'a' ? 'b' : 'a';
  v1::ReceiptEvidence evidence;
  const grpc::Status refused =
      daemon_.Client("correctional-oslo-fengsel")->GetReceiptEvidence(changed_id, &evidence);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::DATA_LOSS) << refused.error_message();
  EXPECT_NE(refused.error_message().find("was changed in the store since it was logged"),
            std::string::npos)
      << refused.error_message();
}

}  // namespace
}  // namespace infoflyt::testing
