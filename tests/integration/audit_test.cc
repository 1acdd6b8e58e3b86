// The disclosure log and the Audit service against the real daemon over mTLS, and the offline
// `infoflyt audit verify` against exports of it: queries by identity number, access control,
// reads recorded in the log, subject access reports, proofs, and tampering caught.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "integration/test_daemon.h"
#include "log_file.h"
#include "test_util.h"
#include "unit/test_envelopes.h"

namespace infoflyt::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kAuditor = "auditor-eos-utvalget";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(daemon_.Start()) << daemon_.Log(); }

  v1::Receipt PostRelease(const std::string& key, const std::string& national_id) {
    v1::Receipt receipt;
    EXPECT_TRUE(daemon_.Client("correctional-oslo-fengsel")
                    ->Post(ReleaseNotice(key, national_id), &receipt)
                    .ok());
    return receipt;
  }
  std::vector<v1::DisclosureRecord> Query(const v1::QueryDisclosuresRequest& request,
                                          const std::string& auditor = kAuditor) {
    v1::QueryDisclosuresResponse response;
    const grpc::Status s = daemon_.Client(auditor)->QueryDisclosures(request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {response.records().begin(), response.records().end()};
  }
  // Every record before index `until` that `auditor` finds, walking pages of `page_size` (each
  // page's read is itself a record, after `until`).
  std::vector<v1::DisclosureRecord> QueryAll(const std::string& auditor, uint32_t page_size,
                                             uint64_t until) {
    std::vector<v1::DisclosureRecord> all;
    v1::QueryDisclosuresRequest request;
    request.set_page_size(page_size);
    while (true) {
      v1::QueryDisclosuresResponse response;
      const grpc::Status s = daemon_.Client(auditor)->QueryDisclosures(request, &response);
      EXPECT_TRUE(s.ok()) << s.error_message();
      for (const auto& r : response.records()) {
        if (r.index() >= until) return all;
        all.push_back(r);
      }
      if (!s.ok() || response.next_page_token().empty()) return all;
      request.set_page_token(response.next_page_token());
    }
  }
  std::string Path(const std::string& name) const {
    return fs::path(daemon_.db_path()).parent_path() / name;
  }
  std::string KeyFile() const { return daemon_.log_key_path() + ".pub"; }
  // Exports the log and the checkpoint it is exported up to.
  void Export(const std::string& log, const std::string& note) {
    const CliResult r =
        daemon_.Cli(kAuditor, "audit export --out " + log + " --checkpoint-out " + note);
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  CliResult Verify(const std::string& log, const std::string& note,
                   const std::string& previous = "") {
    return daemon_.Cli(kAuditor, "-o json audit verify --log " + log + " --checkpoint " + note +
                                     " --key " + KeyFile() +
                                     (previous.empty() ? "" : " --previous " + previous));
  }

  TestDaemon daemon_;
};

TEST_F(AuditTest, QueryByIdentityNumberFindsExactlyThatPersonsDisclosures) {
  const v1::Receipt mine = PostRelease("a", kValidFnr);
  PostRelease("b", kOtherValidFnr);
  v1::QueryDisclosuresRequest request;
  request.set_national_id(kValidFnr);
  request.set_outcome("disclosed");
  const auto records = Query(request);
  ASSERT_EQ(records.size(), 2u);  // Police district and PST.
  for (const auto& r : records) {
    EXPECT_EQ(r.message_id(), mine.message_id());
    EXPECT_EQ(r.event(), "disclose");
    EXPECT_EQ(r.legal_basis(), "strgjfl-4i");
    EXPECT_EQ(r.sender(), "correctional/oslo-fengsel");
  }
  EXPECT_EQ(records[0].recipient(), "police/oslo");
  EXPECT_EQ(records[1].recipient(), "pst/pst");
  // Without the outcome filter, the auditors' lookups of the person are found too.
  request.clear_outcome();
  const auto everything = Query(request);
  ASSERT_EQ(everything.size(), 4u);
  EXPECT_EQ(everything[2].event(), "read");
  EXPECT_EQ(everything[3].event(), "read");
  // Filters combine; pages continue from the token.
  request.set_party("pst/pst");
  request.set_outcome("disclosed");
  EXPECT_EQ(Query(request).size(), 1u);
  v1::QueryDisclosuresRequest all;
  all.set_page_size(2);
  v1::QueryDisclosuresResponse page;
  ASSERT_TRUE(daemon_.Client(kAuditor)->QueryDisclosures(all, &page).ok());
  ASSERT_EQ(page.records_size(), 2);
  ASSERT_FALSE(page.next_page_token().empty());
  all.set_page_token(page.next_page_token());
  ASSERT_TRUE(daemon_.Client(kAuditor)->QueryDisclosures(all, &page).ok());
  EXPECT_EQ(page.records(0).index(), 2u);
  // A bad identity number is refused, naming the field and not the number.
  request.set_national_id("15076500564");
  v1::QueryDisclosuresResponse none;
  const grpc::Status bad = daemon_.Client(kAuditor)->QueryDisclosures(request, &none);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(bad.error_message().find("15076500564"), std::string::npos);
}

// Filter values are what the daemon knows, so nothing free-form (an identity number least of
// all) is written into the query's read record; page tokens cannot be made up or moved.
TEST_F(AuditTest, FiltersMustBeKnownValuesAndPageTokensAreOpaque) {
  PostRelease("a", kValidFnr);
  PostRelease("b", kOtherValidFnr);
  PostRelease("c", kValidFnr);
  auto auditor = daemon_.Client(kAuditor);
  const int64_t reads = daemon_.CountRows("disclosures WHERE event = 'read'");
  const std::pair<std::string, std::string> bad[] = {
      {"party", "15076500565"},        {"party", "police/atlantis"},
      {"legal_basis", "15076500565"},  {"legal_basis", "no-such-basis"},
      {"message_type", "15076500565"}, {"message_type", "gossip"},
      {"outcome", "15076500565"},      {"outcome", "leaked"},
  };
  for (const auto& [field, value] : bad) {
    v1::QueryDisclosuresRequest request;
    request.GetReflection()->SetString(&request, request.GetDescriptor()->FindFieldByName(field),
                                       value);
    v1::QueryDisclosuresResponse response;
    const grpc::Status s = auditor->QueryDisclosures(request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field << "=" << value;
    const auto violations = client::FieldViolationsOf(s);
    ASSERT_EQ(violations.size(), 1u) << field;
    EXPECT_EQ(violations[0].field, field);
    EXPECT_EQ(s.error_message().find("15076500565"), std::string::npos);
  }
  EXPECT_EQ(daemon_.CountRows("disclosures WHERE event = 'read'"), reads);  // None recorded.
  EXPECT_EQ(daemon_.CountRows("disclosures WHERE reason LIKE '%15076500565%'"), 0);

  v1::QueryDisclosuresRequest paged;
  paged.set_page_size(2);
  paged.set_outcome("disclosed");
  v1::QueryDisclosuresResponse first;
  ASSERT_TRUE(auditor->QueryDisclosures(paged, &first).ok());
  ASSERT_FALSE(first.next_page_token().empty());
  EXPECT_EQ(first.next_page_token().find_first_not_of("0123456789"), 1u);  // Not a bare index.
  v1::QueryDisclosuresRequest next = paged;
  next.set_page_token(first.next_page_token());
  v1::QueryDisclosuresResponse second;
  ASSERT_TRUE(auditor->QueryDisclosures(next, &second).ok());
  EXPECT_GT(second.records(0).index(), first.records(1).index());
  for (const std::string& forged : {std::string("2"), std::string("0.") + std::string(32, '0'),
                                    first.next_page_token() + "0"}) {
    next.set_page_token(forged);
    EXPECT_EQ(auditor->QueryDisclosures(next, &second).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT)
        << forged;
  }
  next = paged;
  next.set_outcome("refused");  // Another query: the token does not carry over.
  next.set_page_token(first.next_page_token());
  EXPECT_EQ(auditor->QueryDisclosures(next, &second).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  next = paged;
  next.set_national_id(kValidFnr);  // Nor to a query about a person.
  next.set_page_token(first.next_page_token());
  EXPECT_EQ(auditor->QueryDisclosures(next, &second).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(AuditTest, OnlyAuditorsMayReadTheLogAndEveryReadIsInIt) {
  PostRelease("a", kValidFnr);
  for (const std::string party : {"police-oslo", "pst-pst", "municipality-0301"}) {
    v1::SignedCheckpoint checkpoint;
    EXPECT_EQ(daemon_.Client(party)->GetCheckpoint(0, &checkpoint).error_code(),
              grpc::StatusCode::PERMISSION_DENIED)
        << party;
    v1::QueryDisclosuresResponse response;
    EXPECT_EQ(daemon_.Client(party)->QueryDisclosures({}, &response).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  EXPECT_EQ(daemon_.CountRows("disclosures WHERE event = 'read'"), 0);

  v1::QueryDisclosuresRequest request;
  request.set_national_id(kValidFnr);
  request.set_legal_basis("strgjfl-4i");
  Query(request);
  // The read is a record in the log: who, what, about whom (as the keyed hash), never the number.
  v1::QueryDisclosuresRequest reads;
  reads.set_outcome("read");
  const auto found = Query(reads);
  ASSERT_EQ(found.size(), 2u);  // Each read is recorded before it is answered: it sees itself.
  EXPECT_EQ(found[0].sender(), "auditor/eos-utvalget");
  EXPECT_NE(found[0].reason().find("QueryDisclosures"), std::string::npos) << found[0].reason();
  EXPECT_NE(found[0].reason().find("legal_basis=strgjfl-4i"), std::string::npos);
  EXPECT_EQ(found[0].reason().find(kValidFnr), std::string::npos);
  EXPECT_FALSE(found[0].subject_hash().empty());
  EXPECT_FALSE(found[0].sender_certificate_fingerprint().empty());
  EXPECT_NE(found[1].reason().find("outcome=read"), std::string::npos) << found[1].reason();
  EXPECT_EQ(daemon_.CountRows("disclosures WHERE event = 'read'"), 2);
}

// A call refused to a registered party is a record in the log (event "deny": who, which call,
// why; nothing of the request), durable before the refusal is answered. At most one per party
// and call a minute, so a misbehaving party cannot fill the log; the log still verifies.
TEST_F(AuditTest, ACallRefusedToAPartyIsOneDenyRecordAndTheLogStillVerifies) {
  PostRelease("a", kValidFnr);
  auto police = daemon_.Client("police-oslo");
  for (int i = 0; i < 3; ++i) {
    v1::QueryDisclosuresRequest request;
    request.set_national_id(kValidFnr);
    v1::QueryDisclosuresResponse response;
    const grpc::Status s = police->QueryDisclosures(request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(s.error_message(), "a police party may not use this call");
  }
  // Recorded before the answer: no waiting needed.
  EXPECT_EQ(daemon_.CountRows("disclosures WHERE event = 'deny'"), 1);
  // Another party and call is a record of its own.
  v1::FlagRecord record;
  EXPECT_EQ(daemon_.FlagPerson(kValidFnr, &record, "municipality-0301").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(daemon_.CountRows("disclosures WHERE event = 'deny'"), 2);

  v1::QueryDisclosuresRequest denials;
  denials.set_outcome("refused");
  denials.set_party("police/oslo");
  const auto found = Query(denials);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].event(), "deny");
  EXPECT_EQ(found[0].sender(), "police/oslo");
  EXPECT_EQ(found[0].reason(), "Audit/QueryDisclosures: a police party may not use this call");
  EXPECT_TRUE(found[0].subject_hash().empty());  // Not whom the police asked about.
  EXPECT_FALSE(found[0].sender_certificate_fingerprint().empty());
  const std::string metrics = daemon_.Metrics();
  EXPECT_EQ(MetricValue(metrics, "infoflyt_deny_records_total"), 2);
  EXPECT_EQ(MetricValue(metrics, "infoflyt_auth_failures_total{reason=\"kind may not call\"}"), 4);
  EXPECT_NE(LineWith(daemon_.Log(), {"event=auth_refused reason=\"kind may not call\" "
                                     "rpc=Audit/QueryDisclosures peer=ipv4:127.0.0.1:",
                                     "spiffe_id=spiffe://infoflyt.test/police/oslo"}),
            "")
      << daemon_.Log();

  const std::string log = Path("log.jsonl");
  const std::string note = Path("checkpoint.txt");
  Export(log, note);
  const CliResult r = Verify(log, note);
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

// politiregisterloven § 66: the report of a person PST flagged holds no trace of PST (no PST
// party, no municipal disclosure made because of its flag, no mark or count of anything left
// out) and so looks like anyone else's; the same sentence on the exemption is in every report.
TEST_F(AuditTest, SubjectAccessReportsLeaveOutPstWithoutATrace) {
  v1::FlagRecord flagged;
  ASSERT_TRUE(daemon_.FlagPerson(kValidFnr, &flagged).ok());
  const v1::Receipt receipt = PostRelease("a", kValidFnr);
  PostRelease("b", kOtherValidFnr);
  // The municipality was told, on PST's behalf; the prison's receipt does not say so.
  EXPECT_EQ(daemon_.CountRows("disclosures WHERE message_id = '" + receipt.message_id() +
                              "' AND recipient LIKE 'municipality/%' AND on_behalf_of = "
                              "'pst/pst' AND outcome = 'disclosed'"),
            1);
  for (const std::string& party : receipt.recipients()) {
    EXPECT_EQ(party.rfind("municipality/", 0), std::string::npos) << party;
  }
  EXPECT_EQ(receipt.refused_size(), 0);
  v1::MessageStatus status;
  ASSERT_TRUE(daemon_.Client("correctional-oslo-fengsel")
                  ->GetMessageStatus(receipt.message_id(), &status)
                  .ok());
  EXPECT_EQ(status.recipients_size(), 2);  // police/oslo and pst/pst: its own basis's.

  v1::SubjectAccessReportResponse flagged_report;
  v1::SubjectAccessReportResponse other_report;
  ASSERT_TRUE(daemon_.Client(kAuditor)->SubjectAccessReport(kValidFnr, &flagged_report).ok());
  ASSERT_TRUE(daemon_.Client(kAuditor)->SubjectAccessReport(kOtherValidFnr, &other_report).ok());
  for (const auto* report : {&flagged_report, &other_report}) {
    ASSERT_EQ(report->entries_size(), 1);
    EXPECT_EQ(report->entries(0).recipient(), "police/oslo");
    EXPECT_EQ(report->entries(0).legal_citation(), "straffegjennomføringsloven § 4 i");
    EXPECT_EQ(report->withheld(), 0u);
    EXPECT_NE(report->exemptions().find("politiregisterloven § 66"), std::string::npos);
    v1::SubjectAccessReportResponse without_sentence = *report;
    without_sentence.clear_exemptions();
    EXPECT_EQ(without_sentence.DebugString().find("pst"), std::string::npos)
        << without_sentence.DebugString();
    EXPECT_EQ(without_sentence.DebugString().find("municipality"), std::string::npos);
    EXPECT_GT(report->checkpoint().tree_size(), 0u);
  }
  EXPECT_EQ(flagged_report.exemptions(), other_report.exemptions());
}

TEST_F(AuditTest, ProofsVerifyAgainstTheSignedCheckpointsOfThePublishedKey) {
  PostRelease("a", kValidFnr);
  const std::string kept = Path("kept.note");
  CliResult r = daemon_.Cli(kAuditor, "audit checkpoint --out " + kept + " --key " + KeyFile());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(ReadFile(kept).rfind("infoflyt.test/disclosures\n", 0), 0u) << ReadFile(kept);
  PostRelease("b", kOtherValidFnr);
  r = daemon_.Cli(kAuditor, "audit proof --index 0 --key " + KeyFile());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  // The log only grew since the kept checkpoint.
  r = daemon_.Cli(kAuditor, "audit checkpoint --previous " + kept + " --key " + KeyFile());
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

// The Data Protection Authority's scope leaves PST out: it finds no PST record in its queries,
// on any page, and its proofs and export give PST's records as leaf hashes only; the export
// still verifies whole. The EOS Committee, PST's overseer, sees everything.
TEST_F(AuditTest, AScopedAuditorFindsNoPstRecordAndStillVerifiesTheWholeLog) {
  const std::string kScoped = "auditor-datatilsynet";
  PostRelease("a", kValidFnr);
  PostRelease("b", kOtherValidFnr);
  auto involves_pst = [](const v1::DisclosureRecord& r) {
    return r.sender().rfind("pst/", 0) == 0 || r.recipient().rfind("pst/", 0) == 0 ||
           r.on_behalf_of().rfind("pst/", 0) == 0;
  };
  // Another auditor's reads are out of scope too: their filters may name PST.
  auto hidden = [&](const v1::DisclosureRecord& r) {
    return involves_pst(r) || (r.event() == "read" && r.sender() == "auditor/eos-utvalget");
  };
  v1::QueryDisclosuresRequest by_eos;
  by_eos.set_party("pst/pst");
  ASSERT_FALSE(Query(by_eos).empty());  // A read naming PST, by the EOS Committee.
  const uint64_t until = daemon_.CountRows("disclosures");
  const std::vector<v1::DisclosureRecord> everything = QueryAll(kAuditor, 1000, until);
  ASSERT_EQ(everything.size(), until);
  std::vector<uint64_t> expected;
  uint64_t a_pst_record = 0;
  for (const auto& r : everything) {
    if (involves_pst(r)) a_pst_record = r.index();
    if (!hidden(r)) expected.push_back(r.index());
  }
  ASSERT_GT(a_pst_record, 0u);
  for (uint32_t page_size : {1000u, 1u, 2u}) {
    std::vector<uint64_t> seen;
    for (const auto& r : QueryAll(kScoped, page_size, until)) seen.push_back(r.index());
    EXPECT_EQ(seen, expected) << "page_size " << page_size;
  }
  EXPECT_TRUE(Query(by_eos, kScoped).empty());

  const CliResult proof = daemon_.Cli(
      kScoped, "audit proof --index " + std::to_string(a_pst_record) + " --key " + KeyFile());
  EXPECT_EQ(proof.exit_code, 0) << proof.out;
  EXPECT_NE(proof.out.find("out of scope"), std::string::npos) << proof.out;
  EXPECT_EQ(proof.out.find("pst/"), std::string::npos) << proof.out;

  const std::string log = Path("scoped.jsonl");
  const std::string note = Path("scoped.note");
  const CliResult exported =
      daemon_.Cli(kScoped, "audit export --out " + log + " --checkpoint-out " + note);
  ASSERT_EQ(exported.exit_code, 0) << exported.out;
  std::vector<v1::LogEntry> entries;
  ASSERT_TRUE(client::ReadLogFile(log, client::LogFormat::kJsonLines, &entries).ok());
  size_t withheld = 0;
  for (const v1::LogEntry& e : entries) {
    EXPECT_FALSE(hidden(e.record())) << e.record().index();
    if (e.record().index() < until) withheld += e.out_of_scope() ? 1 : 0;
  }
  EXPECT_EQ(withheld, everything.size() - expected.size());
  const CliResult verified =
      daemon_.Cli(kScoped, "-o json audit verify --log " + log + " --checkpoint " + note +
                               " --key " + KeyFile());
  EXPECT_EQ(verified.exit_code, 0) << verified.out;
  EXPECT_NE(verified.out.find("out of this auditor's scope"), std::string::npos) << verified.out;
  // A leaf hash changed in the scoped export no longer gives the signed root.
  std::string text = ReadFile(log);
  const size_t at = text.find("\"out_of_scope\":true");
  ASSERT_NE(at, std::string::npos);
  const size_t hash = text.rfind("\"leaf_hash\":\"", at) + 13;
  text[hash] = text[hash] == 'A' ? 'B' : 'A';
  std::ofstream(log, std::ios::trunc) << text;
  EXPECT_EQ(daemon_
                .Cli(kScoped,
                     "audit verify --log " + log + " --checkpoint " + note + " --key " + KeyFile())
                .exit_code,
            65);
}

// A PST record changed in the database fails a scoped auditor's check too, though it is never
// shown the record: its export gives the hash of the record as it now stands.
TEST_F(AuditTest, AChangedOutOfScopeRecordFailsTheScopedAuditorsCheckUnseen) {
  v1::FlagRecord flagged;
  ASSERT_TRUE(daemon_.FlagPerson(kValidFnr, &flagged).ok());
  ASSERT_EQ(flagged.flag_id().size(), 36u);
  ASSERT_EQ(daemon_.Terminate(), 0);
  std::string db = ReadFile(daemon_.db_path());
  size_t copies = 0;  // The flag's row and its "flag" record both name it.
  for (size_t at = db.find(flagged.flag_id()); at != std::string::npos;
       at = db.find(flagged.flag_id(), at + 1)) {
    db[at + 3] = db[at + 3] == 'a' ? 'b' : 'a';
    ++copies;
  }
  ASSERT_GE(copies, 1u);
  std::ofstream(daemon_.db_path(), std::ios::binary | std::ios::trunc) << db;
  ASSERT_TRUE(daemon_.Start()) << daemon_.Log();
  const std::string log = Path("changed-scoped.jsonl");
  const std::string note = Path("changed-scoped.note");
  const CliResult exported = daemon_.Cli("auditor-datatilsynet",
                                         "audit export --out " + log + " --checkpoint-out " + note);
  ASSERT_EQ(exported.exit_code, 0) << exported.out;
  EXPECT_EQ(ReadFile(log).find("pst/pst"), std::string::npos);
  const CliResult verified =
      daemon_.Cli("auditor-datatilsynet",
                  "audit verify --log " + log + " --checkpoint " + note + " --key " + KeyFile());
  EXPECT_EQ(verified.exit_code, 65) << verified.out;
  EXPECT_NE(verified.out.find("root mismatch"), std::string::npos) << verified.out;
}

TEST_F(AuditTest, AnExportVerifiesAndAChangedRecordIsNamed) {
  PostRelease("a", kValidFnr);
  PostRelease("b", kOtherValidFnr);
  const std::string log = Path("log.jsonl");
  const std::string note = Path("cp.note");
  Export(log, note);
  CliResult r = Verify(log, note);
  ASSERT_EQ(r.exit_code, 0) << r.out;

  // Someone with access to the database file changes one byte of record 3, the second message's
  // first (its content hash, which is stored nowhere else; record 0 is the rules in force).
  v1::QueryDisclosuresRequest request;
  request.set_page_size(10);
  const std::string target = Query(request).at(3).content_hash();
  ASSERT_EQ(target.size(), 32u);
  ASSERT_EQ(daemon_.Terminate(), 0);  // Closing the store checkpoints the WAL into the file.
  std::string db = ReadFile(daemon_.db_path());
  // Every copy: a page split may have left an old one on a free page.
  size_t copies = 0;
  for (size_t at = db.find(target); at != std::string::npos; at = db.find(target, at + 1)) {
    db[at + 5] = static_cast<char>(db[at + 5] ^ 0x01);
    ++copies;
  }
  ASSERT_GE(copies, 1u);
  std::ofstream(daemon_.db_path(), std::ios::binary | std::ios::trunc) << db;
  ASSERT_TRUE(daemon_.Start()) << daemon_.Log();

  const std::string tampered = Path("tampered.jsonl");
  Export(tampered, Path("cp2.note"));
  r = Verify(tampered, Path("cp2.note"));
  EXPECT_EQ(r.exit_code, 65) << r.out;
  EXPECT_NE(r.out.find("\"first_bad_index\":3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("entry 3"), std::string::npos) << r.out;
}

TEST_F(AuditTest, TruncatedOrForkedLogsFailAgainstAnEarlierCheckpoint) {
  for (int i = 0; i < 3; ++i) PostRelease("a" + std::to_string(i), kValidFnr);
  const std::string log = Path("log.jsonl");
  const std::string kept = Path("kept.note");
  Export(log, kept);
  ASSERT_EQ(Verify(log, kept).exit_code, 0);

  // Truncated: the last two entries dropped.
  std::vector<std::string> lines;
  {
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  ASSERT_GE(lines.size(), 6u);
  {
    std::ofstream out(Path("short.jsonl"));
    for (size_t i = 0; i + 2 < lines.size(); ++i) out << lines[i] << "\n";
  }
  CliResult r = Verify(Path("short.jsonl"), kept);
  EXPECT_EQ(r.exit_code, 65) << r.out;
  EXPECT_NE(r.out.find("truncated"), std::string::npos) << r.out;

  // Forked: a second daemon holding the same log key, with a different history, signs a
  // checkpoint that verifies on its own but does not extend the kept one.
  TestDaemon fork;
  fs::copy_file(daemon_.log_key_path(), fork.log_key_path());
  ASSERT_TRUE(fork.Start()) << fork.Log();
  v1::Receipt receipt;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(fork.Client("correctional-oslo-fengsel")
                    ->Post(ReleaseNotice("f" + std::to_string(i), kOtherValidFnr), &receipt)
                    .ok());
  }
  const std::string forked = Path("fork.jsonl");
  const std::string fork_note = Path("fork.note");
  r = fork.Cli(kAuditor, "audit export --out " + forked + " --checkpoint-out " + fork_note);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(Verify(forked, fork_note).exit_code, 0);  // Self-consistent ...
  r = Verify(forked, fork_note, kept);                // ... but not the log the auditor kept.
  EXPECT_EQ(r.exit_code, 65) << r.out;
  EXPECT_NE(r.out.find("not consistent with the earlier checkpoint"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace infoflyt::testing
