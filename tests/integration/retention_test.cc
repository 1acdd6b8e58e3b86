// Retention and erasure on the real daemon (embedded SQLite), with short rules: bodies erased
// on time by the daemon's own timer, said so to recipients and senders, each erasure an "erase"
// record, and the log, and every proof fetched before, verifying as before.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "integration/subscriber.h"
#include "integration/test_daemon.h"
#include "log_verify.h"
#include "test_util.h"
#include "unit/test_envelopes.h"

namespace infoflyt::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kAuditor = "auditor-eos-utvalget";

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Bodies 3 s after every recipient acknowledged, 12 s at the latest; flags 3 s after ending.
    std::string rules = ReadFile(daemon_.legal_bases_path());
    const std::string shipped = "[retention]\nretain = \"30d\"\nretain_max = \"180d\"\n";
    ASSERT_NE(rules.find(shipped), std::string::npos);
    rules.replace(rules.find(shipped), shipped.size(),
                  "[retention]\nretain = \"3s\"\nretain_max = \"12s\"\n");
    std::ofstream(daemon_.legal_bases_path(), std::ios::trunc) << rules;
    daemon_.set_store_config("sqlite_path = \"" + daemon_.db_path() +
                             "\"\npurge_interval = \"1s\"\n");
    ASSERT_TRUE(daemon_.Start()) << daemon_.Log();
  }

  std::string Post(const std::string& key) {
    grpc::Status s;
    const std::string id = daemon_.PostReleaseNotice(key, &s);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return id;
  }
  // When each recipient's body of `message_id` was erased, as its sender's status says (0: not).
  std::map<std::string, int64_t> ErasedAt(const std::string& message_id) {
    v1::MessageStatus status;
    EXPECT_TRUE(
        daemon_.Client("correctional-oslo-fengsel")->GetMessageStatus(message_id, &status).ok());
    std::map<std::string, int64_t> out;
    for (const v1::RecipientStatus& r : status.recipients()) {
      out[r.party()] = r.has_erased_at() ? r.erased_at().seconds() : 0;
    }
    return out;
  }
  std::vector<v1::DisclosureRecord> Erasures(const std::string& national_id = "") {
    v1::QueryDisclosuresRequest request;
    request.set_outcome("erased");
    request.set_national_id(national_id);
    v1::QueryDisclosuresResponse response;
    EXPECT_TRUE(daemon_.Client(kAuditor)->QueryDisclosures(request, &response).ok());
    return {response.records().begin(), response.records().end()};
  }
  std::string Path(const std::string& name) const {
    return (fs::path(daemon_.db_path()).parent_path() / name).string();
  }

  TestDaemon daemon_;
};

TEST_F(RetentionTest, BodiesAreErasedOnTimeSaidSoAndTheLogStillVerifies) {
  const std::string key = daemon_.log_key_path() + ".pub";
  std::string verifier_key = ReadFile(key);
  while (!verifier_key.empty() && verifier_key.back() == '\n') verifier_key.pop_back();
  const std::string acknowledged = Post("acknowledged");
  const std::string open = Post("open");
  auto police = daemon_.Client("police-oslo");
  auto pst = daemon_.Client("pst-pst");
  uint64_t first_police_delivery = 0;
  {
    Subscriber police_stream(police.get());
    Subscriber pst_stream(pst.get());
    ASSERT_TRUE(police_stream.WaitForMessage(open));
    ASSERT_TRUE(pst_stream.WaitForMessage(open));
    first_police_delivery = police_stream.deliveries().at(0).delivery_id();
    for (auto [client, stream] :
         {std::pair{police.get(), &police_stream}, {pst.get(), &pst_stream}}) {
      v1::AckResponse response;
      ASSERT_TRUE(client->Ack({stream->deliveries().at(0).delivery_id()}, &response).ok());
    }
  }
  // A proof fetched before anything is erased, of the newest record then checkpointed.
  auto auditor = daemon_.Client(kAuditor);
  v1::SignedCheckpoint before;
  ASSERT_TRUE(Eventually([&] {
    return auditor->GetCheckpoint(0, &before).ok() &&
           before.tree_size() == static_cast<uint64_t>(daemon_.CountRows("disclosures"));
  })) << before.DebugString();
  v1::InclusionProof proof;
  ASSERT_TRUE(auditor->GetInclusionProof(before.tree_size() - 1, before.tree_size(), &proof).ok());
  const client::VerifyResult first = client::VerifyInclusionAnswer(proof, verifier_key);
  ASSERT_TRUE(first.ok) << first.message;
  EXPECT_EQ(ErasedAt(acknowledged),
            (std::map<std::string, int64_t>{{"police/oslo", 0}, {"pst/pst", 0}}));

  // Acknowledged by both: erased 3 s after the last acknowledgement, while the other is kept.
  ASSERT_TRUE(Eventually([&] { return ErasedAt(acknowledged)["police/oslo"] != 0; },
                         std::chrono::seconds(10)));
  EXPECT_NE(ErasedAt(acknowledged)["pst/pst"], 0);
  EXPECT_EQ(ErasedAt(open)["police/oslo"], 0);
  // Never acknowledged by either: erased 8 s after posting.
  ASSERT_TRUE(Eventually([&] { return ErasedAt(open)["pst/pst"] != 0; }, std::chrono::seconds(15)));
  EXPECT_EQ(daemon_.CountRows("deliveries WHERE erased_at IS NULL OR length(envelope) > 0"), 0);
  EXPECT_NE(daemon_.Log().find("event=retention_erased messages="), std::string::npos)
      << daemon_.Log();
  EXPECT_EQ(MetricValue(daemon_.Metrics(), "infoflyt_retention_erased_messages_total"), 2);

  // Replayed, each delivery says its body was erased and brings none.
  {
    Subscriber replay(police.get(), first_police_delivery);
    ASSERT_TRUE(replay.WaitFor(2));
    for (const v1::Delivery& d : replay.deliveries()) {
      EXPECT_TRUE(d.erased()) << d.message_id();
      EXPECT_FALSE(d.has_envelope()) << d.message_id();
      EXPECT_FALSE(d.unreadable()) << d.message_id();
    }
  }
  const CliResult replayed = daemon_.Cli(
      "police-oslo", "subscribe --ack --count 2 --from " + std::to_string(first_police_delivery));
  EXPECT_EQ(CountOccurrences(replayed.out, "ERASED (its body was erased under the retention"), 2)
      << replayed.out;
  v1::MessageStatus after_replay;  // --ack did not acknowledge the erased, unread notice.
  ASSERT_TRUE(
      daemon_.Client("correctional-oslo-fengsel")->GetMessageStatus(open, &after_replay).ok());
  for (const v1::RecipientStatus& r : after_replay.recipients()) {
    EXPECT_FALSE(r.has_acknowledged_at()) << r.party();
  }
  const CliResult status = daemon_.Cli("correctional-oslo-fengsel", "status " + open);
  EXPECT_NE(status.out.find("ERASED (its body, "), std::string::npos) << status.out;

  // One erase record per delivery, under the rule that erased it, found by the person too.
  const std::vector<v1::DisclosureRecord> erased = Erasures(kValidFnr);
  ASSERT_EQ(erased.size(), 4u);
  for (const v1::DisclosureRecord& r : erased) {
    EXPECT_EQ(r.event(), "erase");
    EXPECT_EQ(r.sender(), "correctional/oslo-fengsel");
    EXPECT_EQ(r.legal_basis(), "strgjfl-4i");
    EXPECT_EQ(r.reason(), r.message_id() == acknowledged
                              ? "body erased: retain 3s after every recipient acknowledged"
                              : "body erased: retain_max 12s after posting");
  }

  // The proof from before still verifies, and the whole log verifies against the checkpoint
  // kept before as its extension.
  EXPECT_TRUE(client::VerifyInclusionAnswer(proof, verifier_key).ok);
  v1::InclusionProof again;
  ASSERT_TRUE(auditor->GetInclusionProof(before.tree_size() - 1, before.tree_size(), &again).ok());
  EXPECT_EQ(again.SerializeAsString(), proof.SerializeAsString());
  std::ofstream(Path("before.note")) << before.note();
  v1::SignedCheckpoint latest;  // One that covers the erasures.
  const auto erased_by_now = static_cast<uint64_t>(daemon_.CountRows("disclosures"));
  ASSERT_TRUE(Eventually([&] {
    return auditor->GetCheckpoint(0, &latest).ok() && latest.tree_size() >= erased_by_now;
  }));
  CliResult r = daemon_.Cli(kAuditor, "audit export --out " + Path("log.jsonl") +
                                          " --checkpoint-out " + Path("log.note"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = daemon_.Cli(kAuditor, "audit verify --log " + Path("log.jsonl") + " --checkpoint " +
                                Path("log.note") + " --key " + key + " --previous " +
                                Path("before.note"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(CountOccurrences(ReadFile(Path("log.jsonl")), "\"event\":\"erase\""), 4);
}

TEST_F(RetentionTest, AnEndedFlagsPersonAndReasonAreErasedAfterItsRetention) {
  v1::FlagRecord ended;
  ASSERT_TRUE(daemon_.FlagPerson(kValidFnr, &ended).ok());
  v1::FlagRecord active;
  ASSERT_TRUE(daemon_.FlagPerson(kOtherValidFnr, &active).ok());
  auto pst = daemon_.Client("pst-pst");
  v1::FlagRecord after;
  ASSERT_TRUE(pst->Unflag(ended.flag_id(), &after).ok());
  auto lookup = [&](const char* national_id) {
    v1::ListFlagsRequest request;
    request.set_national_id(national_id);
    request.set_include_inactive(true);
    v1::ListFlagsResponse response;
    EXPECT_TRUE(pst->ListFlags(request, &response).ok());
    return response.flags_size();
  };
  EXPECT_EQ(lookup(kValidFnr), 1);
  ASSERT_TRUE(Eventually([&] { return lookup(kValidFnr) == 0; }, std::chrono::seconds(10)));
  EXPECT_EQ(lookup(kOtherValidFnr), 1);  // Still active: kept.
  EXPECT_EQ(daemon_.CountRows("flags WHERE erased_at IS NOT NULL AND reason = ''"), 1);
  const std::vector<v1::DisclosureRecord> erased = Erasures(kValidFnr);
  ASSERT_EQ(erased.size(), 1u);
  EXPECT_EQ(erased[0].message_type(), "flag");
  EXPECT_EQ(erased[0].sender(), "pst/pst");
  EXPECT_EQ(erased[0].reason(), "flag_id=" + ended.flag_id() +
                                    " person and reason erased: retain 3s after the flag ended");
  EXPECT_EQ(MetricValue(daemon_.Metrics(), "infoflyt_retention_erased_flags_total"), 1);
}

}  // namespace
}  // namespace infoflyt::testing
