// The offline audit of the disclosure log (client/log_verify.h, client/log_file.h): a log built
// here exactly as audit.proto defines it, checked as an auditor would, then tampered with in
// each way the checks exist for.
#include "log_verify.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "log_file.h"
#include "merkle/compact_range.h"
#include "merkle/memory_node_store.h"
#include "merkle/merkle_hash.h"
#include "merkle/proof.h"
#include "merkle/signed_note.h"

namespace infoflyt::client {
namespace {

using google::protobuf::util::MessageDifferencer;

constexpr uint64_t kLogSize = 40;
constexpr char kOrigin[] = "infoflyt.test/disclosures";

v1::DisclosureRecord MakeRecord(uint64_t i) {
  static const char* kEvents[] = {"disclose", "refuse", "escalate", "read"};
  static const char* kOutcomes[] = {"disclosed", "refused", "disclosed", "read"};
  static const char* kParties[] = {"police/oslo", "municipality/0301", "pst/pst",
                                   "correctional/oslo-fengsel"};
  v1::DisclosureRecord r;
  r.set_index(i);
  r.mutable_occurred_at()->set_seconds(1767225600 + 37 * static_cast<int64_t>(i));
  r.mutable_occurred_at()->set_nanos(static_cast<int32_t>(i % 3) * 1000);
  const char* event = kEvents[i % 4];
  r.set_event(event);
  r.set_outcome(kOutcomes[i % 4]);
  r.set_sender(i % 4 == 2 ? "infoflytd" : kParties[(i + 3) % 4]);
  if (i % 4 != 3) {  // Reads concern no message.
    r.set_message_id("00000000-0000-4000-8000-" + std::string(12 - std::to_string(i).size(), '0') +
                     std::to_string(i));
    r.set_delivery_id(1000 + i);
    r.set_recipient(kParties[i % 4]);
    r.set_subject_hash(std::string(32, static_cast<char>(i)));
    r.set_message_type(i % 2 ? "release_notice" : "concern_report");
    r.set_view(i % 5 ? "person.given_name,person.family_name,home_municipality" : "*");
    r.set_content_hash(std::string(32, static_cast<char>(0xA0 + i)));
    r.set_legal_basis("strgjfl-4i");
    r.set_legal_citation("straffegjennomføringsloven § 4 i");
    r.set_handling(i % 3 ? "amber" : "red");
  }
  if (i % 4 == 1) r.set_reason("recipient flagged: returned-foreign-fighter");
  if (i % 4 == 3) r.set_reason("audit query: party=police/oslo");
  r.set_sender_certificate_subject("CN=" + r.sender() + ",O=infoflyt test");
  r.set_sender_certificate_fingerprint(std::string(64, "0123456789abcdef"[i % 16]));
  r.set_instance("infoflytd-test-1");
  r.set_version("0.1.0");
  return r;
}

v1::LogEntry EntryOf(const v1::DisclosureRecord& record) {
  v1::LogEntry entry;
  *entry.mutable_record() = record;
  entry.set_leaf_hash(merkle::LeafHash(LeafBytes(record)));
  return entry;
}

std::vector<v1::LogEntry> MakeLog(uint64_t n) {
  std::vector<v1::LogEntry> log;
  for (uint64_t i = 0; i < n; ++i) log.push_back(EntryOf(MakeRecord(i)));
  return log;
}

// The root over the stored leaf hashes of the first `size` entries.
std::string RootOf(const std::vector<v1::LogEntry>& log, uint64_t size) {
  merkle::CompactRange range;
  std::vector<merkle::Node> completed;
  for (uint64_t i = 0; i < size; ++i)
    EXPECT_TRUE(range.Append(log[i].leaf_hash(), &completed).ok());
  return range.Root();
}

std::string SignCheckpoint(const merkle::NoteSigner& signer, uint64_t size, const std::string& root,
                           const std::string& origin = kOrigin) {
  merkle::Checkpoint checkpoint{origin, size, root, {}};
  std::string text;
  std::string note;
  EXPECT_TRUE(checkpoint.Format(&text).ok());
  EXPECT_TRUE(signer.SignNote(text, &note).ok());
  return note;
}

class LogVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(merkle::NoteSigner::Generate(kOrigin, &signer_).ok());
    key_ = signer_->VerifierKey();
    log_ = MakeLog(kLogSize);
    note_ = Note(log_, kLogSize);
  }

  std::string Note(const std::vector<v1::LogEntry>& log, uint64_t size) const {
    return SignCheckpoint(*signer_, size, RootOf(log, size));
  }

  std::unique_ptr<merkle::NoteSigner> signer_;
  std::string key_;
  std::vector<v1::LogEntry> log_;
  std::string note_;
};

// A scratch directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "log_verify_XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteLog(const std::string& path, LogFormat format, const std::vector<v1::LogEntry>& log) {
  std::ofstream out(path, std::ios::binary);
  LogWriter writer(&out, format);
  for (const auto& entry : log) ASSERT_TRUE(writer.Write(entry).ok());
  out.close();
  ASSERT_TRUE(out);
}

TEST(LeafBytesTest, AreTheDeterministicEncodingInFieldNumberOrderWithoutDefaults) {
  v1::DisclosureRecord record;
  EXPECT_EQ(LeafBytes(record), "");  // Record 0 with nothing set: every default omitted.
  // Set out of field order; encoded in it: index (1), occurred_at (2), event (3), outcome (4) is
  // "" and so omitted, subject_hash (11).
  record.set_subject_hash(std::string("\x01\x02", 2));
  record.set_event("read");
  record.set_outcome("");
  record.mutable_occurred_at()->set_seconds(1);
  record.set_index(1);
  EXPECT_EQ(LeafBytes(record), std::string("\x08\x01"           // 1: varint 1
                                           "\x12\x02\x08\x01"   // 2: {seconds: 1}
                                           "\x1a\x04read"       // 3: "read"
                                           "\x5a\x02\x01\x02",  // 11: bytes 01 02
                                           16));
  // What the daemon serialises with protobuf's defaults is the same for every record here.
  for (uint64_t i = 0; i < kLogSize; ++i) {
    EXPECT_EQ(LeafBytes(MakeRecord(i)), MakeRecord(i).SerializeAsString()) << i;
  }
}

TEST_F(LogVerifyTest, AGoodLogVerifies) {
  const VerifyResult r = VerifyLog(log_, note_, key_);
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.entries, kLogSize);
  EXPECT_EQ(r.tree_size, kLogSize);
  EXPECT_FALSE(r.first_bad_index.has_value());
  EXPECT_NE(r.message.find("ok: 40 entries"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find(Hex(RootOf(log_, kLogSize))), std::string::npos) << r.message;
}

// An entry out of the exporting auditor's scope is its index and leaf hash: the tree still
// verifies, a wrong leaf hash fails the root, and such an entry may carry nothing else.
TEST_F(LogVerifyTest, OutOfScopeEntriesAreCheckedByTheirLeafAndCarryOnlyTheirIndex) {
  std::vector<v1::LogEntry> scoped = log_;
  for (uint64_t i : {3u, 7u}) {
    scoped[i].mutable_record()->Clear();
    scoped[i].mutable_record()->set_index(i);
    scoped[i].set_out_of_scope(true);
  }
  VerifyResult r = VerifyLog(scoped, note_, key_);
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_NE(r.message.find("2 out of this auditor's scope"), std::string::npos) << r.message;
  std::vector<v1::LogEntry> wrong_leaf = scoped;
  wrong_leaf[3].mutable_leaf_hash()->at(0) ^= 1;
  EXPECT_FALSE(VerifyLog(wrong_leaf, note_, key_).ok);
  std::vector<v1::LogEntry> carrying = scoped;
  *carrying[7].mutable_record() = log_[7].record();
  r = VerifyLog(carrying, note_, key_);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("out of scope, yet it carries record fields"), std::string::npos)
      << r.message;
}

TEST_F(LogVerifyTest, TheEmptyLogVerifiesAgainstTheEmptyCheckpoint) {
  const std::string empty = SignCheckpoint(*signer_, 0, merkle::EmptyRoot());
  const VerifyResult r = VerifyLog({}, empty, key_);
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_TRUE(VerifyLog(log_, note_, key_, empty).ok);
}

TEST_F(LogVerifyTest, ExportsRoundTripThroughJsonLinesAndBinaryFiles) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  for (const char* name : {"log.jsonl", "log.pb"}) {
    SCOPED_TRACE(name);
    const std::string path = dir.path() + "/" + name;
    LogFormat format;
    ASSERT_TRUE(LogFormatFromPath(path, &format));
    WriteLog(path, format, log_);
    std::vector<v1::LogEntry> read;
    const Status s = ReadLogFile(path, format, &read);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_EQ(read.size(), log_.size());
    for (size_t i = 0; i < read.size(); ++i) {
      EXPECT_TRUE(MessageDifferencer::Equals(read[i], log_[i])) << i;
      EXPECT_EQ(LeafBytes(read[i].record()), LeafBytes(log_[i].record())) << i;
    }
    const VerifyResult r = VerifyLog(read, note_, key_);
    EXPECT_TRUE(r.ok) << r.message;
  }
  // JSON lines are one object per line with the .proto field names.
  std::ifstream in(dir.path() + "/log.jsonl");
  std::string first;
  ASSERT_TRUE(std::getline(in, first));
  EXPECT_EQ(first.front(), '{');
  EXPECT_NE(first.find("\"leaf_hash\""), std::string::npos) << first;
  EXPECT_NE(first.find("\"occurred_at\""), std::string::npos) << first;
}

TEST(LogFormatTest, ByNameAndByExtension) {
  LogFormat f;
  EXPECT_TRUE(LogFormatFromName("jsonl", &f));
  EXPECT_EQ(f, LogFormat::kJsonLines);
  EXPECT_TRUE(LogFormatFromName("pb", &f));
  EXPECT_EQ(f, LogFormat::kBinary);
  EXPECT_FALSE(LogFormatFromName("json", &f));
  EXPECT_TRUE(LogFormatFromPath("/tmp/x.export.jsonl", &f));
  EXPECT_EQ(f, LogFormat::kJsonLines);
  EXPECT_TRUE(LogFormatFromPath("x.pb", &f));
  EXPECT_EQ(f, LogFormat::kBinary);
  EXPECT_FALSE(LogFormatFromPath("x.json", &f));
  EXPECT_FALSE(LogFormatFromPath("pb", &f));
}

TEST_F(LogVerifyTest, AChangedRecordIsNamedByItsIndex) {
  for (uint64_t k : {uint64_t{0}, uint64_t{17}, kLogSize - 1}) {
    auto log = log_;
    log[k].mutable_record()->set_recipient("police/bergen");
    const VerifyResult r = VerifyLog(log, note_, key_);
    EXPECT_FALSE(r.ok);
    ASSERT_TRUE(r.first_bad_index.has_value()) << r.message;
    EXPECT_EQ(*r.first_bad_index, k);
    EXPECT_EQ(r.message, "entry " + std::to_string(k) +
                             ": record differs from the logged leaf (changed after logging)");
  }
  // One flipped bit of a hash, one second of a time, a field that was empty.
  auto log = log_;
  (*log[5].mutable_record()->mutable_content_hash())[7] ^= 0x01;
  (*log[9].mutable_record()->mutable_occurred_at())
      .set_seconds(log[9].record().occurred_at().seconds() + 1);
  EXPECT_EQ(VerifyLog(log, note_, key_).first_bad_index, 5u);
  log[5] = log_[5];
  EXPECT_EQ(VerifyLog(log, note_, key_).first_bad_index, 9u);
  log[9] = log_[9];
  log[3].mutable_record()->set_legal_basis("made-up");  // Record 3 is a read: had no basis.
  EXPECT_EQ(VerifyLog(log, note_, key_).first_bad_index, 3u);
  // The stored leaf hash altered instead of the record: equally a mismatch.
  log = log_;
  char& first = (*log[22].mutable_leaf_hash())[0];
  first = static_cast<char>(first ^ 0x80);
  EXPECT_EQ(VerifyLog(log, note_, key_).first_bad_index, 22u);
}

TEST_F(LogVerifyTest, ARecordEditedInTheExportFileIsNamed) {
  TempDir dir;
  const std::string path = dir.path() + "/log.jsonl";
  WriteLog(path, LogFormat::kJsonLines, log_);
  // Edit line 13 (record 12) of the file as text, as someone hiding a disclosure might.
  std::ifstream in(path);
  std::stringstream edited;
  std::string line;
  for (int n = 0; std::getline(in, line); ++n) {
    if (n == 12) {
      const size_t at = line.find("\"recipient\":\"");
      ASSERT_NE(at, std::string::npos) << line;
      line.replace(at, 13, "\"recipient\":\"x");
    }
    edited << line << "\n";
  }
  in.close();
  std::ofstream(path, std::ios::trunc) << edited.str();
  std::vector<v1::LogEntry> read;
  ASSERT_TRUE(ReadLogFile(path, LogFormat::kJsonLines, &read).ok());
  const VerifyResult r = VerifyLog(read, note_, key_);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_index, 12u) << r.message;
}

TEST_F(LogVerifyTest, ATruncatedLogFails) {
  auto log = log_;
  log.resize(30);
  const VerifyResult r = VerifyLog(log, note_, key_);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message, "log truncated: 30 entries, checkpoint covers 40");
  EXPECT_FALSE(r.first_bad_index.has_value());
  EXPECT_EQ(r.entries, 30u);
  EXPECT_EQ(r.tree_size, kLogSize);
  EXPECT_FALSE(VerifyLog({}, note_, key_).ok);
}

TEST_F(LogVerifyTest, AMissingRepeatedOrMisplacedEntryIsNamed) {
  auto log = log_;
  log.erase(log.begin() + 12);
  VerifyResult r = VerifyLog(log, note_, key_);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_index, 12u) << r.message;
  EXPECT_NE(r.message.find("entry 12: is record 13"), std::string::npos) << r.message;

  log = log_;
  std::swap(log[20], log[21]);
  EXPECT_EQ(VerifyLog(log, note_, key_).first_bad_index, 20u);

  log = log_;
  log.insert(log.begin() + 8, log_[7]);
  EXPECT_EQ(VerifyLog(log, note_, key_).first_bad_index, 8u);

  log = log_;
  log[2].clear_record();
  EXPECT_EQ(VerifyLog(log, note_, key_).first_bad_index, 2u);

  // A log that starts late (an export --from 10) cannot be checked against a root.
  log.assign(log_.begin() + 10, log_.end());
  EXPECT_EQ(VerifyLog(log, note_, key_).first_bad_index, 0u);
}

TEST_F(LogVerifyTest, EntriesAfterTheCheckpointAreAllowedButNotCovered) {
  const VerifyResult r = VerifyLog(log_, Note(log_, 25), key_);
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.tree_size, 25u);
  EXPECT_EQ(r.entries, kLogSize);
  EXPECT_NE(r.message.find("15 entries after the checkpoint are not covered"), std::string::npos)
      << r.message;
}

TEST_F(LogVerifyTest, AnEarlierCheckpointOfTheSameLogIsConsistent) {
  for (uint64_t earlier : {uint64_t{0}, uint64_t{1}, uint64_t{20}, uint64_t{33}, kLogSize}) {
    const VerifyResult r = VerifyLog(log_, note_, key_, Note(log_, earlier));
    EXPECT_TRUE(r.ok) << earlier << ": " << r.message;
    EXPECT_NE(
        r.message.find("consistent with the earlier checkpoint at size " + std::to_string(earlier)),
        std::string::npos)
        << r.message;
  }
}

TEST_F(LogVerifyTest, AForkedLogFailsAgainstAnEarlierCheckpointOfTheOriginal) {
  const std::string earlier = Note(log_, 20);
  // The operator rewrites record 3 and rebuilds everything after it consistently, then signs
  // the forked tree with the same key: on its own the fork verifies.
  auto forked = log_;
  v1::DisclosureRecord changed = forked[3].record();
  changed.set_reason("nothing to see");
  forked[3] = EntryOf(changed);
  const std::string forked_note = Note(forked, kLogSize);
  ASSERT_TRUE(VerifyLog(forked, forked_note, key_).ok);

  const VerifyResult r = VerifyLog(forked, forked_note, key_, earlier);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(
      r.message.rfind("log is not consistent with the earlier checkpoint (truncated or forked)", 0),
      0u)
      << r.message;
  // A checkpoint kept before the fork point cannot tell.
  EXPECT_TRUE(VerifyLog(forked, forked_note, key_, Note(log_, 3)).ok);
  EXPECT_FALSE(VerifyLog(forked, forked_note, key_, Note(log_, 4)).ok);
}

TEST_F(LogVerifyTest, ALogThatShrankSinceTheEarlierCheckpointFails) {
  const std::string later_but_smaller = Note(log_, 30);
  const VerifyResult r = VerifyLog(log_, later_but_smaller, key_, note_);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("not consistent with the earlier checkpoint"), std::string::npos)
      << r.message;
  EXPECT_NE(r.message.find("covers 40 entries, this checkpoint only 30"), std::string::npos)
      << r.message;
}

TEST_F(LogVerifyTest, AnEarlierCheckpointOfAnotherLogFails) {
  const std::string other = SignCheckpoint(*signer_, 20, RootOf(log_, 20), "other.test/log");
  const VerifyResult r = VerifyLog(log_, note_, key_, other);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("other.test/log"), std::string::npos) << r.message;
}

TEST_F(LogVerifyTest, ACheckpointSignedByAnotherKeyFails) {
  // Same key name, different key: what an impostor would publish.
  std::unique_ptr<merkle::NoteSigner> impostor;
  ASSERT_TRUE(merkle::NoteSigner::Generate(kOrigin, &impostor).ok());
  const std::string forged = SignCheckpoint(*impostor, kLogSize, RootOf(log_, kLogSize));
  VerifyResult r = VerifyLog(log_, forged, key_);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message.rfind("checkpoint: not validly signed by the log key", 0), 0u) << r.message;
  EXPECT_EQ(r.tree_size, 0u);
  // Nor may the earlier checkpoint come from another key.
  r = VerifyLog(log_, note_, key_, SignCheckpoint(*impostor, 10, RootOf(log_, 10)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message.rfind("earlier checkpoint: not validly signed", 0), 0u) << r.message;
  // And the impostor's key verifies the impostor's note, not the log's.
  EXPECT_FALSE(VerifyLog(log_, note_, impostor->VerifierKey()).ok);
}

TEST_F(LogVerifyTest, ACheckpointWithATamperedRootFails) {
  // Edited in the note: the signature no longer covers it.
  merkle::Checkpoint checkpoint{kOrigin, kLogSize, RootOf(log_, kLogSize), {}};
  std::string text;
  ASSERT_TRUE(checkpoint.Format(&text).ok());
  ASSERT_EQ(note_.rfind(text, 0), 0u);
  std::string edited = note_;
  checkpoint.root[0] ^= 0x01;
  std::string bad_text;
  ASSERT_TRUE(checkpoint.Format(&bad_text).ok());
  edited.replace(0, text.size(), bad_text);
  VerifyResult r = VerifyLog(log_, edited, key_);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("not validly signed"), std::string::npos) << r.message;

  // Signed by the log key over a root these entries do not give.
  r = VerifyLog(log_, SignCheckpoint(*signer_, kLogSize, checkpoint.root), key_);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message.rfind("root mismatch at size 40", 0), 0u) << r.message;
  EXPECT_FALSE(r.first_bad_index.has_value());
  // The root of the right entries at another size.
  r = VerifyLog(log_, SignCheckpoint(*signer_, kLogSize, RootOf(log_, kLogSize - 1)), key_);
  EXPECT_EQ(r.message.rfind("root mismatch at size 40", 0), 0u) << r.message;
}

TEST_F(LogVerifyTest, MalformedInputIsRejectedWithAReason) {
  VerifyResult r = VerifyLog(log_, note_, "not a key");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message.rfind("verifier key: ", 0), 0u) << r.message;
  r = VerifyLog(log_, "not a note", key_);
  EXPECT_FALSE(r.ok);
  r = VerifyLog(log_, note_, key_, std::string_view(""));  // Given but empty: not "none".
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message.rfind("earlier checkpoint: ", 0), 0u) << r.message;
  // A signed note that is not a checkpoint.
  std::string note;
  ASSERT_TRUE(signer_->SignNote("hello\n", &note).ok());
  r = VerifyLog(log_, note, key_);
  EXPECT_EQ(r.message.rfind("checkpoint: signed, but not a checkpoint", 0), 0u) << r.message;

  merkle::Checkpoint checkpoint;
  EXPECT_TRUE(VerifyCheckpointNote(note_, key_, &checkpoint).ok());
  EXPECT_EQ(checkpoint.size, kLogSize);
  EXPECT_EQ(checkpoint.origin, kOrigin);
  EXPECT_EQ(VerifyCheckpointNote(note, key_, &checkpoint).code(), Code::kInvalidArgument);
}

TEST_F(LogVerifyTest, ReadersRejectDamagedFiles) {
  std::vector<v1::LogEntry> read;
  // JSON: a line that does not parse, and a field this build does not know (dropping it would
  // make the record look tampered with), are named by line.
  std::stringstream json;
  LogWriter json_writer(&json, LogFormat::kJsonLines);
  ASSERT_TRUE(json_writer.Write(log_[0]).ok());
  json << "\n{\"record\":{\"index\":\"1\",\"no_such_field\":1}}\n";
  Status s = ReadLog(json, LogFormat::kJsonLines, &read);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("line 3: ", 0), 0u) << s.message();
  std::stringstream garbage("{\"record\":");
  EXPECT_EQ(ReadLog(garbage, LogFormat::kJsonLines, &read).message().rfind("line 1: ", 0), 0u);

  // Binary: cut off in the middle of the third entry.
  std::stringstream binary;
  LogWriter writer(&binary, LogFormat::kBinary);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(writer.Write(log_[i]).ok());
  const std::string whole = binary.str();
  std::stringstream cut(whole.substr(0, whole.size() - 5));
  s = ReadLog(cut, LogFormat::kBinary, &read);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("entry 2 of the file", 0), 0u) << s.message();
  std::stringstream empty;
  EXPECT_TRUE(ReadLog(empty, LogFormat::kBinary, &read).ok());
  EXPECT_TRUE(read.empty());
  EXPECT_EQ(ReadLogFile("/nonexistent/log.pb", LogFormat::kBinary, &read).code(), Code::kNotFound);
}

TEST_F(LogVerifyTest, JsonExportRefusesRecordsWithFieldsItWouldDrop) {
  v1::LogEntry entry = log_[0];
  // Field 99: what a newer daemon's record would carry.
  v1::DisclosureRecord::GetReflection()
      ->MutableUnknownFields(entry.mutable_record())
      ->AddVarint(99, 1);
  std::stringstream out;
  EXPECT_EQ(LogWriter(&out, LogFormat::kJsonLines).Write(entry).code(), Code::kInvalidArgument);
  EXPECT_TRUE(LogWriter(&out, LogFormat::kBinary).Write(entry).ok());
}

// Proof answers built from the log as the daemon would serve them.
class ProofAnswerTest : public LogVerifyTest {
 protected:
  void SetUp() override {
    LogVerifyTest::SetUp();
    merkle::CompactRange range;
    std::vector<merkle::Node> completed;
    for (const auto& entry : log_) {
      ASSERT_TRUE(range.Append(entry.leaf_hash(), &completed).ok());
      ASSERT_TRUE(store_.Put(completed).ok());
    }
  }

  v1::SignedCheckpoint Signed(uint64_t size) const {
    v1::SignedCheckpoint c;
    c.set_tree_size(size);
    c.set_root_hash(RootOf(log_, size));
    c.set_note(Note(log_, size));
    c.set_verifier_key(key_);
    return c;
  }

  v1::InclusionProof Inclusion(uint64_t index, uint64_t size) const {
    v1::InclusionProof answer;
    *answer.mutable_record() = log_[index].record();
    answer.set_leaf_hash(log_[index].leaf_hash());
    std::vector<std::string> path;
    EXPECT_TRUE(merkle::InclusionProof(store_, index, size, &path).ok());
    for (auto& h : path) answer.add_hashes(h);
    *answer.mutable_checkpoint() = Signed(size);
    return answer;
  }

  v1::ConsistencyProof Consistency(uint64_t from, uint64_t to) const {
    v1::ConsistencyProof answer;
    std::vector<std::string> proof;
    EXPECT_TRUE(merkle::ConsistencyProof(store_, from, to, &proof).ok());
    for (auto& h : proof) answer.add_hashes(h);
    *answer.mutable_from() = Signed(from);
    *answer.mutable_to() = Signed(to);
    return answer;
  }

  merkle::MemoryNodeStore store_;
};

TEST_F(ProofAnswerTest, InclusionProofsVerifyAndTamperingIsCaught) {
  for (uint64_t size : {uint64_t{1}, uint64_t{7}, uint64_t{32}, kLogSize}) {
    for (uint64_t index = 0; index < size; index += 3) {
      const VerifyResult r = VerifyInclusionAnswer(Inclusion(index, size), key_);
      EXPECT_TRUE(r.ok) << index << "/" << size << ": " << r.message;
      EXPECT_EQ(r.tree_size, size);
    }
  }
  v1::InclusionProof answer = Inclusion(13, kLogSize);
  answer.mutable_record()->set_recipient("police/bergen");
  VerifyResult r = VerifyInclusionAnswer(answer, key_);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_index, 13u);
  EXPECT_NE(r.message.find("changed after logging"), std::string::npos) << r.message;

  // The record and its leaf hash swapped for another consistent pair: the path does not lead
  // to the root.
  answer = Inclusion(13, kLogSize);
  v1::DisclosureRecord other = MakeRecord(13);
  other.set_reason("rewritten");
  *answer.mutable_record() = other;
  answer.set_leaf_hash(merkle::LeafHash(LeafBytes(other)));
  r = VerifyInclusionAnswer(answer, key_);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("not proven to be in the tree of size 40"), std::string::npos)
      << r.message;

  // Leaf bytes (what browsers hash) that are not the record's: refused, whatever they hash to.
  answer = Inclusion(13, kLogSize);
  answer.set_leaf(LeafBytes(answer.record()));
  EXPECT_TRUE(VerifyInclusionAnswer(answer, key_).ok);
  answer.set_leaf(LeafBytes(other));
  r = VerifyInclusionAnswer(answer, key_);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("leaf bytes are not the record's"), std::string::npos) << r.message;

  answer = Inclusion(13, kLogSize);
  (*answer.mutable_hashes(0))[0] ^= 0x01;
  EXPECT_FALSE(VerifyInclusionAnswer(answer, key_).ok);
  answer = Inclusion(13, kLogSize);
  answer.mutable_hashes()->RemoveLast();
  EXPECT_FALSE(VerifyInclusionAnswer(answer, key_).ok);

  // Unsigned fields that disagree with the signed note.
  answer = Inclusion(13, kLogSize);
  answer.mutable_checkpoint()->set_tree_size(kLogSize - 1);
  r = VerifyInclusionAnswer(answer, key_);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("differ from the signed note"), std::string::npos) << r.message;

  std::unique_ptr<merkle::NoteSigner> impostor;
  ASSERT_TRUE(merkle::NoteSigner::Generate(kOrigin, &impostor).ok());
  EXPECT_FALSE(VerifyInclusionAnswer(Inclusion(13, kLogSize), impostor->VerifierKey()).ok);
}

TEST_F(ProofAnswerTest, ConsistencyProofsVerifyAndForksAreCaught) {
  for (uint64_t from : {uint64_t{0}, uint64_t{1}, uint64_t{13}, uint64_t{32}, kLogSize}) {
    const VerifyResult r = VerifyConsistencyAnswer(Consistency(from, kLogSize), key_);
    EXPECT_TRUE(r.ok) << from << ": " << r.message;
  }
  // From the empty tree the service sends no `from` checkpoint.
  v1::ConsistencyProof from_empty = Consistency(0, kLogSize);
  from_empty.clear_from();
  EXPECT_TRUE(VerifyConsistencyAnswer(from_empty, key_).ok);
  EXPECT_TRUE(
      VerifyConsistencyAnswer(from_empty, key_, SignCheckpoint(*signer_, 0, merkle::EmptyRoot()))
          .ok);
  EXPECT_FALSE(VerifyConsistencyAnswer(from_empty, key_, Note(log_, 1)).ok);

  const std::string kept = Note(log_, 13);
  EXPECT_TRUE(VerifyConsistencyAnswer(Consistency(13, kLogSize), key_, kept).ok);
  // A proof from another size than the kept checkpoint's proves nothing about it.
  VerifyResult r = VerifyConsistencyAnswer(Consistency(14, kLogSize), key_, kept);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("not the kept one"), std::string::npos) << r.message;

  // A fork at record 3 after the auditor kept the checkpoint at 13: the forked log's
  // checkpoint cannot be proven to extend it.
  auto forked = log_;
  v1::DisclosureRecord changed = forked[3].record();
  changed.set_reason("nothing to see");
  forked[3] = EntryOf(changed);
  v1::ConsistencyProof answer = Consistency(13, kLogSize);
  answer.mutable_to()->set_root_hash(RootOf(forked, kLogSize));
  answer.mutable_to()->set_note(Note(forked, kLogSize));
  r = VerifyConsistencyAnswer(answer, key_, kept);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("not consistent with the earlier checkpoint"), std::string::npos)
      << r.message;

  answer = Consistency(13, kLogSize);
  (*answer.mutable_hashes(0))[5] ^= 0x01;
  EXPECT_FALSE(VerifyConsistencyAnswer(answer, key_).ok);
}

}  // namespace
}  // namespace infoflyt::client
