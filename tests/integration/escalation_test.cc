// Acknowledgement deadlines and escalation, against the real daemon over mTLS: a municipality
// that does not acknowledge a notice in time makes infoflytd tell the sender and the police
// district, exactly once, also across restarts.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "integration/subscriber.h"
#include "integration/test_daemon.h"
#include "unit/test_envelopes.h"

namespace infoflyt::testing {
namespace {

using std::chrono::seconds;

constexpr int kDeadlineSeconds = 3;

class EscalationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string within = "within = \"" + std::to_string(kDeadlineSeconds) + "s\"\n";
    daemon_.set_extra_config("[acknowledgement.return_notice]\n" + within +
                             "[acknowledgement.release_notice]\n" + within);
    ASSERT_TRUE(daemon_.Start()) << daemon_.Log();
  }

  // PST tells Oslo (and the Oslo police district) that a person has returned.
  v1::Receipt PostReturnNotice(const std::string& key) {
    auto pst = daemon_.Client("pst-pst");
    v1::Receipt receipt;
    EXPECT_TRUE(pst->Post(ReturnNotice(key, kOtherValidFnr, "0301"), &receipt).ok());
    EXPECT_EQ(std::vector<std::string>(receipt.recipients().begin(), receipt.recipients().end()),
              (std::vector<std::string>{"municipality/0301", "police/oslo"}));
    return receipt;
  }

  // Escalation notices about `message_id` that `party` has been given, read from the start
  // until `expect` have come or `wait` has passed.
  std::vector<v1::Delivery> EscalationsSeenBy(const std::string& party,
                                              const std::string& message_id, size_t expect,
                                              seconds wait = seconds(10)) {
    auto client = daemon_.Client(party);
    Subscriber sub(client.get(), 1);
    std::vector<v1::Delivery> found;
    const auto until = std::chrono::steady_clock::now() + wait;
    do {
      sub.WaitFor(found.size() + 1, seconds(1));
      found.clear();
      for (const auto& d : sub.deliveries()) {
        if (d.envelope().has_escalation_notice() &&
            d.envelope().escalation_notice().message_id() == message_id) {
          found.push_back(d);
        }
      }
    } while (found.size() < expect && std::chrono::steady_clock::now() < until);
    return found;
  }

  int64_t EscalationMessages(const std::string& message_id) {
    return daemon_.CountRows(
        "messages WHERE sender = 'infoflytd' AND idempotency_key = (SELECT 'escalation-' || d.id "
        "FROM deliveries d JOIN messages m ON m.id = d.message WHERE m.message_id = '" +
        message_id + "' AND d.recipient = 'municipality/0301')");
  }

  TestDaemon daemon_;
};

TEST_F(EscalationTest, MissedDeadlineIsEscalatedOnceToSenderAndDistrictPolice) {
  const v1::Receipt receipt = PostReturnNotice("missed");
  // The municipality collects the notice but never acknowledges it.
  auto oslo = daemon_.Client("municipality-0301");
  Subscriber municipality(oslo.get());
  ASSERT_TRUE(municipality.WaitForMessage(receipt.message_id()));
  v1::MessageStatus status;
  ASSERT_TRUE(daemon_.Client("pst-pst")->GetMessageStatus(receipt.message_id(), &status).ok());
  ASSERT_EQ(status.recipients(0).party(), "municipality/0301");
  EXPECT_TRUE(status.recipients(0).has_ack_deadline());
  EXPECT_FALSE(status.recipients(1).has_ack_deadline());  // Only municipal notices have one.

  for (const std::string party : {"pst-pst", "police-oslo"}) {
    const auto seen = EscalationsSeenBy(party, receipt.message_id(), 1);
    ASSERT_EQ(seen.size(), 1u) << party << "\n" << daemon_.Log();
    EXPECT_EQ(seen[0].sender(), "infoflytd");
    const auto& notice = seen[0].envelope().escalation_notice();
    EXPECT_EQ(notice.municipality(), "municipality/0301");
    EXPECT_EQ(notice.municipality_name(), "Oslo");
    EXPECT_EQ(notice.message_type(), "return_notice");
    EXPECT_TRUE(notice.received());
    EXPECT_EQ(seen[0].envelope().legal_basis(), "polregl-27-2");
  }
  ASSERT_TRUE(daemon_.Client("pst-pst")->GetMessageStatus(receipt.message_id(), &status).ok());
  EXPECT_TRUE(status.recipients(0).has_escalated_at());
  // The escalation is itself a disclosure, one record per recipient.
  EXPECT_EQ(daemon_.CountRows("disclosures WHERE event = 'escalate' AND outcome = 'disclosed' "
                              "AND message_type = 'escalation_notice' AND reason LIKE "
                              "'municipality/0301 did not acknowledge delivery %'"),
            2);
  // Late acknowledgement is still taken, and changes nothing about the escalation.
  v1::AckResponse ack;
  ASSERT_TRUE(oslo->Ack({municipality.deliveries()[0].delivery_id()}, &ack).ok());
  std::this_thread::sleep_for(seconds(kDeadlineSeconds));
  EXPECT_EQ(EscalationMessages(receipt.message_id()), 1);
  EXPECT_EQ(EscalationsSeenBy("police-oslo", receipt.message_id(), 2, seconds(1)).size(), 1u);
}

// A municipality told of a flagged person's release on PST's behalf and not acknowledging: PST
// and the police are told, on PST's behalf; the prison, which never learnt that the
// municipality was told, is not.
TEST_F(EscalationTest, ADeliveryOnAFlagOwnersBehalfIsEscalatedToTheOwnerNotTheSender) {
  v1::FlagRecord flagged;
  ASSERT_TRUE(daemon_.FlagPerson(kValidFnr, &flagged).ok());
  v1::Receipt receipt;
  ASSERT_TRUE(daemon_.Client("correctional-oslo-fengsel")
                  ->Post(ReleaseNotice("flagged", kValidFnr, "0301"), &receipt)
                  .ok());
  auto oslo = daemon_.Client("municipality-0301");
  Subscriber municipality(oslo.get());
  ASSERT_TRUE(municipality.WaitForMessage(receipt.message_id()));

  for (const std::string party : {"pst-pst", "police-oslo"}) {
    const auto seen = EscalationsSeenBy(party, receipt.message_id(), 1);
    ASSERT_EQ(seen.size(), 1u) << party << "\n" << daemon_.Log();
    EXPECT_EQ(seen[0].envelope().legal_basis(), "polregl-27-2");  // The flag's, not the post's.
  }
  EXPECT_TRUE(
      EscalationsSeenBy("correctional-oslo-fengsel", receipt.message_id(), 1, seconds(1)).empty());
  EXPECT_EQ(daemon_.CountRows("disclosures WHERE event = 'escalate' AND outcome = 'disclosed' "
                              "AND on_behalf_of = 'pst/pst'"),
            2);
  EXPECT_EQ(daemon_.CountRows("disclosures WHERE event = 'escalate' AND recipient LIKE "
                              "'correctional/%'"),
            0);
}

TEST_F(EscalationTest, AcknowledgedInTimeIsNotEscalated) {
  auto oslo = daemon_.Client("municipality-0301");
  Subscriber municipality(oslo.get(), 0, /*ack=*/true);
  const v1::Receipt receipt = PostReturnNotice("in-time");
  ASSERT_TRUE(municipality.WaitForMessage(receipt.message_id()));
  std::this_thread::sleep_for(seconds(kDeadlineSeconds + 2));
  EXPECT_EQ(EscalationMessages(receipt.message_id()), 0);
  EXPECT_EQ(daemon_.CountRows("disclosures WHERE event = 'escalate'"), 0);
  EXPECT_TRUE(EscalationsSeenBy("police-oslo", receipt.message_id(), 1, seconds(1)).empty());
}

TEST_F(EscalationTest, DeadlinesSurviveRestartsAndEscalateOnce) {
  const v1::Receipt receipt = PostReturnNotice("restart");
  // Down before the deadline, up again after it: what fell due meanwhile is escalated at start.
  daemon_.Kill();
  std::this_thread::sleep_for(seconds(kDeadlineSeconds + 1));
  ASSERT_TRUE(daemon_.Start()) << daemon_.Log();
  auto seen = EscalationsSeenBy("police-oslo", receipt.message_id(), 1);
  ASSERT_EQ(seen.size(), 1u) << daemon_.Log();
  EXPECT_FALSE(seen[0].envelope().escalation_notice().received());  // Never collected.
  // Another restart does not escalate again.
  ASSERT_EQ(daemon_.Terminate(), 0);
  ASSERT_TRUE(daemon_.Start()) << daemon_.Log();
  std::this_thread::sleep_for(seconds(2));
  EXPECT_EQ(EscalationMessages(receipt.message_id()), 1);
  EXPECT_EQ(EscalationsSeenBy("pst-pst", receipt.message_id(), 2, seconds(1)).size(), 1u);
  EXPECT_EQ(EscalationsSeenBy("police-oslo", receipt.message_id(), 2, seconds(1)).size(), 1u);

  // A deadline stored before a restart and due after it is watched by the new process.
  const v1::Receipt second = PostReturnNotice("restart-2");
  ASSERT_EQ(daemon_.Terminate(), 0);
  ASSERT_TRUE(daemon_.Start()) << daemon_.Log();
  EXPECT_EQ(EscalationsSeenBy("police-oslo", second.message_id(), 1).size(), 1u);
}

TEST_F(EscalationTest, PartiesCannotPostEscalationNotices) {
  v1::Envelope forged = ReturnNotice("forged", kOtherValidFnr, "0301");
  forged.mutable_escalation_notice()->set_message_id("x");
  v1::Receipt receipt;
  const grpc::Status s = daemon_.Client("pst-pst")->Post(forged, &receipt);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("escalation_notice"), std::string::npos) << s.error_message();
}

}  // namespace
}  // namespace infoflyt::testing
