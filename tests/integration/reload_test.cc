// SIGHUP reloads the parties registry, the places (municipalities and their police districts)
// and the legal-basis policy from the daemon's own copies of the files, without a restart and
// without dropping connections; a broken file keeps the whole running configuration, also
// what the broken file would have removed.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <thread>

#include "base/crypto.h"
#include "integration/subscriber.h"
#include "integration/test_daemon.h"
#include "test_util.h"
#include "unit/test_envelopes.h"

namespace infoflyt::testing {
namespace {

// `text` with the one occurrence of `from` replaced by `to`; fails the test if there is none.
std::string Replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The [[party]] or [[basis]] table starting with `head`, up to the next table of its kind.
std::string Without(const std::string& text, const std::string& head, const std::string& next) {
  const size_t at = text.find(head);
  EXPECT_NE(at, std::string::npos) << head;
  if (at == std::string::npos) return text;
  std::string out = text;
  out.erase(at, text.find(next, at + 1) - at);
  return out;
}

class ReloadTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(daemon_.Start()) << daemon_.Log(); }

  // Writes `text` to `path` and sends SIGHUP; waits until the daemon logs the outcome and
  // returns whether the reload was taken.
  bool Reload(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
    const int ok_before = Occurrences("SIGHUP: reloaded");
    const int failed_before = Occurrences("SIGHUP reload failed");
    daemon_.Signal(SIGHUP);
    for (int i = 0; i < 500; ++i) {
      if (Occurrences("SIGHUP: reloaded") > ok_before) return true;
      if (Occurrences("SIGHUP reload failed") > failed_before) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "no reload outcome logged\n" << daemon_.Log();
    return false;
  }
  int Occurrences(const std::string& text) const { return CountOccurrences(daemon_.Log(), text); }
  // Posts a release notice for a person living in `municipality`; the status and receipt.
  grpc::Status PostRelease(const std::string& municipality, v1::Receipt* receipt) {
    return daemon_.Client("correctional-oslo-fengsel")
        ->Post(ReleaseNotice("reload-" + std::to_string(posts_++), kValidFnr, municipality),
               receipt);
  }
  static std::vector<std::string> Recipients(const v1::Receipt& r) {
    return {r.recipients().begin(), r.recipients().end()};
  }
  // The log's records matching `request`'s filters, as an auditor finds them.
  std::vector<v1::DisclosureRecord> Records(v1::QueryDisclosuresRequest request) {
    request.set_page_size(1000);
    v1::QueryDisclosuresResponse response;
    EXPECT_TRUE(daemon_.Client("auditor-eos-utvalget")->QueryDisclosures(request, &response).ok());
    return {response.records().begin(), response.records().end()};
  }
  std::vector<v1::DisclosureRecord> PolicyRecords() {
    v1::QueryDisclosuresRequest request;
    request.set_message_type("policy");
    return Records(request);
  }

  TestDaemon daemon_;
  int posts_ = 0;
};

TEST_F(ReloadTest, PartiesReloadRevokesARemovedPartyOnItsOpenConnection) {
  auto bergen = daemon_.Client("municipality-4601");
  v1::MessageStatus status;
  // Registered: the call is answered (there is no such message).
  EXPECT_EQ(bergen->GetMessageStatus("m", &status).error_code(), grpc::StatusCode::NOT_FOUND);
  const std::string original = ReadFile(daemon_.parties_path());
  const std::string without_bergen =
      Without(original, "[[party]]\nkind = \"municipality\"\nid = \"4601\"\n", "[[party]]");

  // A broken file that would also remove Bergen is refused whole: Bergen is still served.
  EXPECT_FALSE(Reload(daemon_.parties_path(), without_bergen + "\n[[party]]\nkind = \"army\"\n"));
  EXPECT_EQ(bergen->GetMessageStatus("m", &status).error_code(), grpc::StatusCode::NOT_FOUND);

  // Bergen removed from the registry: refused on the same channel after SIGHUP.
  ASSERT_TRUE(Reload(daemon_.parties_path(), without_bergen)) << daemon_.Log();
  const grpc::Status s = bergen->GetMessageStatus("m", &status);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(), "party municipality/4601 is not registered");
  // Others carry on.
  auto oslo = daemon_.Client("municipality-0301");
  EXPECT_EQ(oslo->GetMessageStatus("m", &status).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ReloadTest, PlacesReloadMovesAMunicipalityToAnotherPoliceDistrict) {
  v1::Receipt receipt;
  ASSERT_TRUE(PostRelease("4601", &receipt).ok());
  EXPECT_EQ(Recipients(receipt), (std::vector<std::string>{"police/vest", "pst/pst"}));

  const std::string districts = ReadFile(daemon_.police_districts_path());
  ASSERT_TRUE(Reload(daemon_.police_districts_path(),
                     Replaced(districts, "4601,Bergen,Vestland,Vest politidistrikt",
                              "4601,Bergen,Vestland,Sør-Vest politidistrikt")))
      << daemon_.Log();
  ASSERT_TRUE(PostRelease("4601", &receipt).ok());
  EXPECT_EQ(Recipients(receipt), (std::vector<std::string>{"police/sor-vest", "pst/pst"}));
}

TEST_F(ReloadTest, ABrokenPlacesFileKeepsTheMunicipalitiesItWouldRemove) {
  const std::string municipalities = ReadFile(daemon_.municipalities_path());
  // Eigersund gone, and a row with a field missing (the file has CRLF line ends).
  const std::string broken =
      Replaced(municipalities, "1101,Eigersund,Rogaland\r\n", "") + "9999,Nowhere\r\n";
  EXPECT_FALSE(Reload(daemon_.municipalities_path(), broken));
  v1::Receipt receipt;
  const grpc::Status s = PostRelease("1101", &receipt);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Recipients(receipt), (std::vector<std::string>{"police/sor-vest", "pst/pst"}));
}

TEST_F(ReloadTest, LegalBasesReloadChangesThePolicyAndABrokenFileKeepsIt) {
  const std::string policy = ReadFile(daemon_.legal_bases_path());
  // A broken file that would also remove the release notices' basis: the running policy stays.
  const std::string without_basis =
      Without(policy, "[[basis]]\nid = \"strgjfl-4i\"\n", "[[basis]]");
  EXPECT_FALSE(Reload(daemon_.legal_bases_path(), without_basis + "[[basis]]\nid = \"\"\n"));
  v1::Receipt receipt;
  grpc::Status s = PostRelease("0301", &receipt);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Recipients(receipt), (std::vector<std::string>{"police/oslo", "pst/pst"}));

  // The basis no longer reaches PST: PST is refused, and the refusal recorded.
  ASSERT_TRUE(Reload(daemon_.legal_bases_path(),
                     Replaced(policy,
                              "  from = [\"correctional\"]\n  to = [\"police\", \"pst\"]\n"
                              "  messages = [\"release_notice\"]",
                              "  from = [\"correctional\"]\n  to = [\"police\"]\n"
                              "  messages = [\"release_notice\"]")))
      << daemon_.Log();
  s = PostRelease("0301", &receipt);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Recipients(receipt), (std::vector<std::string>{"police/oslo"}));
  ASSERT_EQ(receipt.refused_size(), 1);
  EXPECT_EQ(receipt.refused(0).party(), "pst/pst");

  // The basis removed altogether: citing it is invalid input.
  ASSERT_TRUE(Reload(daemon_.legal_bases_path(), without_basis)) << daemon_.Log();
  s = PostRelease("0301", &receipt);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const auto violations = client::FieldViolationsOf(s);
  ASSERT_EQ(violations.size(), 1u) << s.error_message();
  EXPECT_EQ(violations[0].field, "envelope.legal_basis");
  EXPECT_NE(violations[0].description.find("is not in the catalogue"), std::string::npos)
      << violations[0].description;
}

// Which rules were in force is on the record: a "policy" record at start and at every reload
// taken, naming the SHA-256 of each text loaded, each text fetchable by its hash, and every
// disclosure after it decided under it.
TEST_F(ReloadTest, EveryRuleSetPutInForceIsARecordAndItsTextsAreKept) {
  const std::string policy = ReadFile(daemon_.legal_bases_path());
  const std::vector<v1::DisclosureRecord> at_start = PolicyRecords();
  ASSERT_EQ(at_start.size(), 1u);
  EXPECT_NE(at_start[0].reason().find("legal-bases sha256=" + ToHex(Sha256(policy))),
            std::string::npos)
      << at_start[0].reason();
  EXPECT_NE(at_start[0].reason().find("parties sha256=" +
                                      ToHex(Sha256(ReadFile(daemon_.parties_path())))),
            std::string::npos);
  EXPECT_EQ(at_start[0].sender(), "infoflytd");

  EXPECT_FALSE(Reload(daemon_.legal_bases_path(), policy + "[[basis]]\nid = \"\"\n"));
  EXPECT_EQ(PolicyRecords().size(), 1u);  // A refused file puts nothing in force.

  const std::string changed = Replaced(policy,
                                       "  from = [\"correctional\"]\n  to = [\"police\", \"pst\"]\n"
                                       "  messages = [\"release_notice\"]",
                                       "  from = [\"correctional\"]\n  to = [\"police\"]\n"
                                       "  messages = [\"release_notice\"]");
  ASSERT_TRUE(Reload(daemon_.legal_bases_path(), changed)) << daemon_.Log();
  const std::vector<v1::DisclosureRecord> after_reload = PolicyRecords();
  ASSERT_EQ(after_reload.size(), 2u);
  const v1::DisclosureRecord& in_force = after_reload[1];
  const std::string hash = ToHex(Sha256(changed));
  EXPECT_NE(in_force.reason().find("legal-bases sha256=" + hash), std::string::npos)
      << in_force.reason();

  // The text is kept, byte for byte.
  const std::string out = daemon_.db_path() + ".policy.toml";
  const CliResult fetched =
      daemon_.Cli("auditor-eos-utvalget", "audit policy-text " + hash + " --out " + out);
  ASSERT_EQ(fetched.exit_code, 0) << fetched.out;
  EXPECT_EQ(ReadFile(out), changed);
  EXPECT_EQ(
      daemon_.Cli("auditor-eos-utvalget", "audit policy-text " + std::string(64, '0')).exit_code,
      66);
  EXPECT_EQ(daemon_.Cli("auditor-eos-utvalget", "audit policy-text nothex").exit_code, 65);

  // The disclosure and the refusal the new rules decide come after it.
  v1::Receipt receipt;
  ASSERT_TRUE(PostRelease("0301", &receipt).ok());
  ASSERT_EQ(receipt.refused_size(), 1);
  v1::QueryDisclosuresRequest by_message;
  by_message.set_party("pst/pst");
  by_message.set_outcome("refused");
  const std::vector<v1::DisclosureRecord> refused = Records(by_message);
  ASSERT_FALSE(refused.empty());
  EXPECT_EQ(refused.back().message_id(), receipt.message_id());
  EXPECT_GT(refused.back().index(), in_force.index());
  EXPECT_EQ(refused.back().instance(), in_force.instance());
}

// History stays searchable: a party removed from the registry can still be a filter, since
// the log names it; a party the log never named cannot, and nothing is recorded for it.
TEST_F(ReloadTest, ARemovedPartysRecordsCanStillBeQueried) {
  v1::Receipt receipt;
  ASSERT_TRUE(
      daemon_.Client("pst-pst")->Post(ReturnNotice("to-bergen", kValidFnr, "4601"), &receipt).ok());
  const std::string parties = ReadFile(daemon_.parties_path());
  ASSERT_TRUE(
      Reload(daemon_.parties_path(),
             Without(parties, "[[party]]\nkind = \"municipality\"\nid = \"4601\"\n", "[[party]]")))
      << daemon_.Log();
  v1::QueryDisclosuresRequest bergen;
  bergen.set_party("municipality/4601");
  const std::vector<v1::DisclosureRecord> found = Records(bergen);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].message_id(), receipt.message_id());
  const int64_t reads = daemon_.CountRows("disclosures WHERE event = 'read'");
  for (const char* never : {"municipality/1103", "police/atlantis"}) {
    v1::QueryDisclosuresRequest request;
    request.set_party(never);
    v1::QueryDisclosuresResponse response;
    const grpc::Status s =
        daemon_.Client("auditor-eos-utvalget")->QueryDisclosures(request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << never;
    ASSERT_EQ(client::FieldViolationsOf(s).size(), 1u);
    EXPECT_EQ(client::FieldViolationsOf(s)[0].field, "party");
  }
  EXPECT_EQ(daemon_.CountRows("disclosures WHERE event = 'read'"), reads);
}

// A subject access report holds everything but PST's records: an auditor whose scope leaves
// out more cannot make one, while a scope of PST alone (Datatilsynet's) still can.
TEST_F(ReloadTest, ASubjectAccessReportNeedsAScopeOfAtMostPst) {
  const std::string parties = ReadFile(daemon_.parties_path());
  ASSERT_TRUE(Reload(daemon_.parties_path(),
                     Replaced(parties, "id = \"internal-control\"\n",
                              "id = \"internal-control\"\nout_of_scope = [\"police\"]\n")))
      << daemon_.Log();
  v1::SubjectAccessReportResponse report;
  const grpc::Status narrow =
      daemon_.Client("auditor-internal-control")->SubjectAccessReport(kValidFnr, &report);
  EXPECT_EQ(narrow.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(narrow.error_message().find("leaves out police records"), std::string::npos)
      << narrow.error_message();
  EXPECT_TRUE(daemon_.Client("auditor-datatilsynet")->SubjectAccessReport(kValidFnr, &report).ok());
}

TEST_F(ReloadTest, AnOpenSubscriptionSurvivesSighupAndReceivesLaterPosts) {
  auto police = daemon_.Client("police-oslo");
  Subscriber subscriber(police.get());
  v1::Receipt before;
  ASSERT_TRUE(PostRelease("0301", &before).ok());
  ASSERT_TRUE(subscriber.WaitForMessage(before.message_id()));
  // A real change (Bergen leaves the registry), so the reload swaps the running configuration.
  const std::string parties = ReadFile(daemon_.parties_path());
  ASSERT_TRUE(
      Reload(daemon_.parties_path(),
             Without(parties, "[[party]]\nkind = \"municipality\"\nid = \"4601\"\n", "[[party]]")))
      << daemon_.Log();
  v1::Receipt after;
  ASSERT_TRUE(PostRelease("0301", &after).ok());
  ASSERT_TRUE(subscriber.WaitForMessage(after.message_id())) << daemon_.Log();
  // One stream throughout: a dropped one would have ended (streams are not retried).
  EXPECT_FALSE(subscriber.WaitEnded(std::chrono::seconds(0)))
      << subscriber.status().error_message();
  EXPECT_EQ(subscriber.deliveries().size(), 2u);
}

}  // namespace
}  // namespace infoflyt::testing
