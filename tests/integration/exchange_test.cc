// The Exchange API against the real infoflytd binary over real mTLS on loopback.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <iostream>
#include <thread>

#include "base/crypto.h"
#include "integration/shared_daemon_test.h"
#include "integration/subscriber.h"
#include "test_util.h"
#include "unit/test_envelopes.h"

namespace infoflyt::testing {
namespace {

class ExchangeTest : public SharedDaemonTest {
 protected:
  // Rows in the tables a post writes to.
  static std::vector<int64_t> StoredRows() {
    return {daemon_->CountRows("messages"), daemon_->CountRows("deliveries"),
            daemon_->CountRows("disclosures")};
  }
};

TEST_F(ExchangeTest, PostReachesExactlyTheRightSubscribers) {
  auto oslo = daemon_->Client("police-oslo");
  auto pst = daemon_->Client("pst-pst");
  auto vest = daemon_->Client("police-vest");
  auto prison = daemon_->Client("correctional-oslo-fengsel");
  Subscriber oslo_sub(oslo.get());
  Subscriber pst_sub(pst.get());
  Subscriber vest_sub(vest.get());
  Subscriber prison_sub(prison.get());

  v1::Receipt receipt;
  ASSERT_TRUE(prison->Post(ReleaseNotice(Key(), kValidFnr, "0301"), &receipt).ok());
  EXPECT_EQ(std::vector<std::string>(receipt.recipients().begin(), receipt.recipients().end()),
            (std::vector<std::string>{"police/oslo", "pst/pst"}));
  // A second message, for Bergen: the first delivery Vest sees must be this one, which proves
  // it never got the Oslo notice.
  v1::Receipt bergen;
  ASSERT_TRUE(prison->Post(ReleaseNotice(Key(), kOtherValidFnr, "4601"), &bergen).ok());

  ASSERT_TRUE(oslo_sub.WaitForMessage(receipt.message_id()));
  ASSERT_TRUE(pst_sub.WaitForMessage(receipt.message_id()));
  ASSERT_TRUE(pst_sub.WaitForMessage(bergen.message_id()));
  ASSERT_TRUE(vest_sub.WaitForMessage(bergen.message_id()));
  auto find = [](Subscriber& s, const std::string& id) {
    int n = 0;
    for (const auto& d : s.deliveries()) n += d.message_id() == id;
    return n;
  };
  EXPECT_EQ(find(oslo_sub, receipt.message_id()), 1);
  EXPECT_EQ(find(pst_sub, receipt.message_id()), 1);
  EXPECT_EQ(find(pst_sub, bergen.message_id()), 1);
  EXPECT_EQ(vest_sub.deliveries().front().message_id(), bergen.message_id());
  EXPECT_EQ(find(vest_sub, receipt.message_id()), 0);
  EXPECT_EQ(find(oslo_sub, bergen.message_id()), 0);

  v1::Delivery d;
  for (const auto& x : oslo_sub.deliveries()) {
    if (x.message_id() == receipt.message_id()) d = x;
  }
  EXPECT_EQ(d.sender(), "correctional/oslo-fengsel");
  EXPECT_EQ(d.envelope().release_notice().person().national_id(), kValidFnr);
  EXPECT_TRUE(d.envelope().idempotency_key().empty());  // The sender's retry token stays home.
  prison_sub.Stop();
  EXPECT_TRUE(prison_sub.deliveries().empty());  // The sender never receives its own message.
}

TEST_F(ExchangeTest, ReturnNoticeFromPstReachesTheDistrictPolice) {
  auto pst = daemon_->Client("pst-pst");
  auto trondelag = daemon_->Client("police-trondelag");
  Subscriber sub(trondelag.get());
  v1::Receipt receipt;
  ASSERT_TRUE(pst->Post(ReturnNotice(Key(), kValidFnr, "5001"), &receipt).ok());
  // Trondheim is a registered party: return notices reach the municipality too.
  EXPECT_EQ(std::vector<std::string>(receipt.recipients().begin(), receipt.recipients().end()),
            (std::vector<std::string>{"municipality/5001", "police/trondelag"}));
  ASSERT_TRUE(sub.WaitForMessage(receipt.message_id()));
}

TEST_F(ExchangeTest, StatusShowsPendingReceivedAndAcknowledged) {
  auto prison = daemon_->Client("correctional-ila-fengsel");
  auto police = daemon_->Client("police-ost");
  v1::Receipt receipt;
  ASSERT_TRUE(prison->Post(ReleaseNotice(Key(), kValidFnr, "3101"), &receipt).ok());
  v1::MessageStatus status;
  ASSERT_TRUE(prison->GetMessageStatus(receipt.message_id(), &status).ok());
  ASSERT_EQ(status.recipients_size(), 2);
  EXPECT_EQ(status.recipients(0).party(), "police/ost");
  EXPECT_EQ(status.recipients(0).state(), v1::DELIVERY_STATE_PENDING);
  EXPECT_EQ(status.message_type(), "release_notice");

  Subscriber sub(police.get());
  ASSERT_TRUE(sub.WaitFor(1));
  const uint64_t delivery_id = sub.deliveries().back().delivery_id();
  // Sent on the stream: RECEIVED (recorded just after the write, so looked for a while).
  for (int i = 0; i < 250; ++i) {
    ASSERT_TRUE(prison->GetMessageStatus(receipt.message_id(), &status).ok());
    if (status.recipients(0).state() == v1::DELIVERY_STATE_RECEIVED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(status.recipients(0).state(), v1::DELIVERY_STATE_RECEIVED);
  EXPECT_TRUE(status.recipients(0).has_received_at());
  EXPECT_FALSE(status.recipients(0).has_acknowledged_at());
  v1::AckResponse ack;
  ASSERT_TRUE(police->Ack({delivery_id}, &ack).ok());
  EXPECT_EQ(ack.newly_acknowledged(), 1u);
  ASSERT_TRUE(police->Ack({delivery_id}, &ack).ok());  // Again: nothing new, no record.
  EXPECT_EQ(ack.newly_acknowledged(), 0u);
  // The acknowledgement is evidence in the log: exactly one record, no content.
  EXPECT_EQ(daemon_->CountRows("disclosures WHERE event = 'acknowledge' AND outcome = "
                               "'acknowledged' AND message_id = '" +
                               receipt.message_id() +
                               "' AND delivery_id = " + std::to_string(delivery_id) +
                               " AND sender = 'police/ost' AND recipient = "
                               "'correctional/ila-fengsel' AND content_hash = x''"),
            1);
  ASSERT_TRUE(prison->GetMessageStatus(receipt.message_id(), &status).ok());
  EXPECT_EQ(status.recipients(0).state(), v1::DELIVERY_STATE_ACKNOWLEDGED);
  EXPECT_TRUE(status.recipients(0).has_received_at());
  EXPECT_TRUE(status.recipients(0).has_acknowledged_at());
  EXPECT_EQ(status.recipients(1).party(), "pst/pst");
  EXPECT_NE(status.recipients(1).state(), v1::DELIVERY_STATE_ACKNOWLEDGED);

  // Acknowledged deliveries are not sent again to a default subscription...
  sub.Stop();
  Subscriber again(police.get());
  v1::Receipt next;
  ASSERT_TRUE(prison->Post(ReleaseNotice(Key(), kValidFnr, "3101"), &next).ok());
  ASSERT_TRUE(again.WaitFor(1));
  EXPECT_EQ(again.deliveries().front().message_id(), next.message_id());
  // ...but can be replayed on request, marked as acknowledged.
  Subscriber replay(police.get(), delivery_id);
  ASSERT_TRUE(replay.WaitFor(1));
  EXPECT_EQ(replay.deliveries().front().delivery_id(), delivery_id);
  EXPECT_TRUE(replay.deliveries().front().acknowledged());
}

TEST_F(ExchangeTest, OnlyTheSenderSeesStatusAndOnlyTheRecipientAcks) {
  auto prison = daemon_->Client("correctional-oslo-fengsel");
  auto oslo = daemon_->Client("police-oslo");
  auto pst = daemon_->Client("pst-pst");
  v1::Receipt receipt;
  ASSERT_TRUE(prison->Post(ReleaseNotice(Key()), &receipt).ok());
  v1::MessageStatus status;
  EXPECT_EQ(oslo->GetMessageStatus(receipt.message_id(), &status).error_code(),
            grpc::StatusCode::NOT_FOUND);
  Subscriber sub(pst.get());
  ASSERT_TRUE(sub.WaitFor(1));
  v1::AckResponse ack;
  const grpc::Status s = oslo->Ack({sub.deliveries().back().delivery_id()}, &ack);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(s.error_message().find("delivery_ids[0]"), std::string::npos);
  EXPECT_EQ(oslo->Ack({}, &ack).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ExchangeTest, IdempotentRetryReturnsTheFirstReceiptAndStoresNothingNew) {
  auto prison = daemon_->Client("correctional-oslo-fengsel");
  const v1::Envelope envelope = ReleaseNotice(Key());
  v1::Receipt first;
  v1::Receipt second;
  ASSERT_TRUE(prison->Post(envelope, &first).ok());
  EXPECT_FALSE(first.duplicate());
  const auto before = StoredRows();
  ASSERT_TRUE(prison->Post(envelope, &second).ok());
  EXPECT_TRUE(second.duplicate());
  EXPECT_EQ(second.message_id(), first.message_id());
  EXPECT_EQ(second.accepted_at().seconds(), first.accepted_at().seconds());
  EXPECT_EQ(StoredRows(), before);

  v1::Envelope changed = envelope;
  changed.mutable_release_notice()->set_note("something else");
  v1::Receipt third;
  const grpc::Status s = prison->Post(changed, &third);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(StoredRows(), before);
  // The same key from another party is that party's own key.
  auto other = daemon_->Client("correctional-ila-fengsel");
  ASSERT_TRUE(other->Post(envelope, &third).ok());
  EXPECT_NE(third.message_id(), first.message_id());
}

TEST_F(ExchangeTest, InvalidInputNamesTheFieldNeverEchoesTheNumberAndStoresNothing) {
  auto prison = daemon_->Client("correctional-oslo-fengsel");
  const auto before = StoredRows();
  const std::string bad_id = "15076500564";
  v1::Receipt receipt;
  grpc::Status s = prison->Post(ReleaseNotice(Key(), bad_id), &receipt);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const auto violations = client::FieldViolationsOf(s);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "envelope.release_notice.person.national_id");
  EXPECT_EQ(s.error_message().find(bad_id), std::string::npos);
  EXPECT_EQ(s.error_details().find(bad_id), std::string::npos);

  v1::Envelope e = ReleaseNotice(Key());
  e.mutable_release_notice()->set_home_municipality("0000");
  e.set_legal_basis("no-such-basis");
  s = prison->Post(e, &receipt);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  std::vector<std::string> fields;
  for (const auto& v : client::FieldViolationsOf(s)) fields.push_back(v.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"envelope.legal_basis",
                                              "envelope.release_notice.home_municipality"}));
  EXPECT_NE(s.error_message().find("strgjfl-4i"), std::string::npos);  // Lists valid ids.

  s = prison->Post(v1::Envelope(), &receipt);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // A field the daemon does not know, as a newer or hostile client would send it.
  e = ReleaseNotice(Key());
  auto* notes = e.mutable_release_notice()->mutable_person();
  notes->GetReflection()->MutableUnknownFields(notes)->AddLengthDelimited(77, "outside any view");
  s = prison->Post(e, &receipt);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  fields.clear();
  for (const auto& v : client::FieldViolationsOf(s)) fields.push_back(v.field);
  EXPECT_EQ(fields, std::vector<std::string>{"envelope.release_notice.person"});
  EXPECT_NE(s.error_message().find("field number 77"), std::string::npos) << s.error_message();
  // The wrong kind of sender for the message type.
  auto police = daemon_->Client("police-oslo");
  s = police->Post(ReleaseNotice(Key()), &receipt);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(StoredRows(), before);
  EXPECT_EQ(daemon_->Log().find(bad_id), std::string::npos);
}

TEST_F(ExchangeTest, AFlowTheCitedBasisDoesNotAllowIsRefusedAndRecorded) {
  auto prison = daemon_->Client("correctional-oslo-fengsel");
  const auto before = StoredRows();
  const int64_t refused_before = daemon_->CountRows("disclosures WHERE outcome = 'refused'");
  v1::Envelope e = ReleaseNotice(Key());
  e.set_legal_basis("polregl-27-1");  // The police's basis: not the correctional service's.
  v1::Receipt receipt;
  const grpc::Status s = prison->Post(e, &receipt);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("polregl-27-1"), std::string::npos) << s.error_message();
  EXPECT_NE(s.error_message().find("correctional -> police for release_notice"), std::string::npos)
      << s.error_message();
  const auto after = StoredRows();
  EXPECT_EQ(after[0], before[0]);  // No message,
  EXPECT_EQ(after[1], before[1]);  // no delivery,
  EXPECT_EQ(daemon_->CountRows("disclosures WHERE outcome = 'refused'"), refused_before + 2);
  EXPECT_EQ(daemon_->CountRows("disclosures WHERE outcome = 'refused' AND "
                               "recipient IN ('police/oslo', 'pst/pst') AND event = 'refuse' AND "
                               "legal_basis = 'polregl-27-1' AND delivery_id IS NULL"),
            refused_before + 2);
}

TEST_F(ExchangeTest, OversizedRequestIsRefused) {
  auto prison = daemon_->Client("correctional-oslo-fengsel");
  v1::Envelope e = ReleaseNotice(Key());
  e.mutable_release_notice()->set_note(std::string(size_t{100} * 1024, 'x'));
  v1::Receipt receipt;
  EXPECT_EQ(prison->Post(e, &receipt).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(ExchangeTest, DisclosureRecordsHoldNoIdentityNumberInClear) {
  auto prison = daemon_->Client("correctional-oslo-fengsel");
  v1::Receipt receipt;
  const auto before = daemon_->CountRows("disclosures");
  ASSERT_TRUE(prison->Post(ReleaseNotice(Key(), kOtherValidFnr), &receipt).ok());
  EXPECT_EQ(daemon_->CountRows("disclosures"), before + 2);
  EXPECT_EQ(daemon_->CountRows("disclosures WHERE CAST(subject_hash AS TEXT) LIKE '%" +
                               std::string(kOtherValidFnr) +
                               "%' OR (event = 'disclose' AND length(subject_hash) != 32)"),
            0);
  EXPECT_EQ(daemon_->CountRows("disclosures WHERE message_id = '" + receipt.message_id() +
                               "' AND legal_basis = 'strgjfl-4i' AND outcome = 'disclosed'"),
            2);
  EXPECT_EQ(daemon_->Log().find(kOtherValidFnr), std::string::npos);

  // The record holds the view, the hash of exactly what was disclosed, the citation and the
  // certificate the sender used.
  auto oslo = daemon_->Client("police-oslo");
  Subscriber sub(oslo.get());
  ASSERT_TRUE(sub.WaitForMessage(receipt.message_id()));
  std::string disclosed;
  for (const auto& d : sub.deliveries()) {
    if (d.message_id() == receipt.message_id()) disclosed = d.envelope().SerializeAsString();
  }
  const std::string fingerprint =
      FingerprintHex(Pki().dir + "/parties/correctional-oslo-fengsel.pem");
  EXPECT_EQ(daemon_->CountRows("disclosures WHERE message_id = '" + receipt.message_id() +
                               "' AND recipient = 'police/oslo' AND view = '*' AND "
                               "lower(hex(content_hash)) = '" +
                               ToHex(Sha256(disclosed)) +
                               "' AND legal_citation = 'straffegjennomføringsloven § 4 i' AND "
                               "sender_certificate_fingerprint = '" +
                               fingerprint +
                               "' AND "
                               "sender_certificate_subject LIKE '%CN=oslo-fengsel%'"),
            1)
      << fingerprint;
}

// The record's subject hash is an HMAC-SHA-256 under the daemon's subject key (computed here by
// openssl, not by the daemon's code): a plain SHA-256 of an 11-digit number would be reversed by
// trying them all.
TEST_F(ExchangeTest, TheSubjectHashIsKeyedWithTheDaemonsSubjectKey) {
  auto prison = daemon_->Client("correctional-oslo-fengsel");
  v1::Receipt receipt;
  ASSERT_TRUE(prison->Post(ReleaseNotice(Key(), kOtherValidFnr), &receipt).ok());
  const std::string key_hex =
      CommandOutput("od -An -v -tx1 " + daemon_->subject_key_path() + " | tr -d ' \\n'");
  ASSERT_EQ(key_hex.size(), 64u) << key_hex;
  const std::string printf = std::string("printf %s ") + kOtherValidFnr;
  const std::string hmac = CommandOutput(
      printf + " | openssl dgst -sha256 -mac HMAC -macopt hexkey:" + key_hex + " | sed 's/.* //'");
  const std::string plain = CommandOutput(printf + " | openssl dgst -sha256 | sed 's/.* //'");
  ASSERT_EQ(hmac.size(), 64u) << hmac;
  ASSERT_NE(hmac, plain);
  const std::string records = "disclosures WHERE message_id = '" + receipt.message_id() + "'";
  EXPECT_EQ(daemon_->CountRows(records), 2);
  EXPECT_EQ(daemon_->CountRows(records + " AND lower(hex(subject_hash)) = '" + hmac + "'"), 2);
  EXPECT_EQ(daemon_->CountRows(records + " AND lower(hex(subject_hash)) = '" + plain + "'"), 0);
}

// A stream whose reader stops is held back by HTTP/2 flow control, not by the daemon: posting and
// other subscribers go on, and the stalled stream, once read, gets everything in order.
TEST_F(ExchangeTest, AStalledSubscriberHoldsUpNoOneAndLaterGetsEverythingInOrder) {
  // A client that grants the stream a fixed 64 KiB window: gRPC's default grows it with the
  // measured bandwidth-delay product, and a client transport that buffers everything would
  // never hold the server back.
  const client::ClientOptions o = daemon_->Options("police-sor-ost");
  grpc::SslCredentialsOptions tls{ReadFile(o.ca), ReadFile(o.key), ReadFile(o.cert)};
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 64 * 1024);
  auto stalled =
      v1::Exchange::NewStub(grpc::CreateCustomChannel(o.server, grpc::SslCredentials(tls), args));
  grpc::ClientContext stalled_context;
  stalled_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  v1::SubscribeRequest request;
  // Opened and not read: the server's writes stop once the stream's window is exhausted.
  auto reader = stalled->Subscribe(&stalled_context, request);
  auto prison = daemon_->Client("correctional-oslo-fengsel");
  auto pst = daemon_->Client("pst-pst");
  Subscriber pst_sub(pst.get(), 0, /*ack=*/true);
  constexpr int kPosts = 300;  // About 300 KiB for the stalled stream: well past its window.
  std::vector<std::string> posted;
  for (int i = 0; i < kPosts; ++i) {
    v1::Envelope e = ReleaseNotice(Key(), kValidFnr, "3301");  // Drammen: Sør-Øst.
    e.mutable_release_notice()->set_note(std::string(1000, 'n'));
    v1::Receipt receipt;
    ASSERT_TRUE(prison->Post(e, &receipt).ok()) << i;
    posted.push_back(receipt.message_id());
  }
  // Other subscribers keep receiving at once.
  EXPECT_TRUE(pst_sub.WaitForMessage(posted.back()));
  // The stalled stream really stalled: the daemon has written (and marked received) only part
  // of the deliveries, and no more while nobody reads.
  const std::string sent_to_stalled =
      "deliveries WHERE recipient = 'police/sor-ost' AND received_at IS NOT NULL";
  const int64_t sent = daemon_->CountRows(sent_to_stalled);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(daemon_->CountRows(sent_to_stalled), sent);
  EXPECT_GT(sent, 0) << "nothing was written to the stream";
  EXPECT_LT(sent, kPosts) << "the stream never filled its window";
  std::cerr << "stalled after " << sent << " of " << kPosts << " deliveries\n";
  // Read now: every message arrives, in the order posted, on the same stream.
  std::vector<std::string> read;
  v1::Delivery d;
  uint64_t last_id = 0;
  while (read.size() < posted.size() && reader->Read(&d)) {
    EXPECT_GT(d.delivery_id(), last_id);
    last_id = d.delivery_id();
    if (d.envelope().release_notice().home_municipality() == "3301") read.push_back(d.message_id());
  }
  EXPECT_EQ(read, posted);
  stalled_context.TryCancel();
}

// One party cannot hold more than server.max_streams_per_party (default 8) streams open, and
// others subscribe and receive meanwhile.
TEST_F(ExchangeTest, APartyMayHoldOnlySoManyStreamsAndOthersAreServed) {
  constexpr int kLimit = 8;
  auto police = daemon_->Client("police-sor-vest");
  auto subscribers = [] { return MetricValue(daemon_->Metrics(), "infoflyt_subscribers"); };
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::Delivery>>> streams;
  for (int i = 0; i < kLimit; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    contexts.back()->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    streams.push_back(police->stub().Subscribe(contexts.back().get(), v1::SubscribeRequest()));
  }
  for (int i = 0; i < 250 && subscribers() < kLimit; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(subscribers(), kLimit);
  grpc::ClientContext one_more;
  one_more.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  auto refused = police->stub().Subscribe(&one_more, v1::SubscribeRequest());
  v1::Delivery d;
  EXPECT_FALSE(refused->Read(&d));
  const grpc::Status s = refused->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_EQ(s.error_message(),
            "party police/sor-vest already has 8 open Subscribe streams "
            "(server.max_streams_per_party)");
  // Another party is served as ever.
  auto pst = daemon_->Client("pst-pst");
  Subscriber pst_sub(pst.get());
  v1::Receipt receipt;
  ASSERT_TRUE(
      daemon_->Client("correctional-oslo-fengsel")->Post(ReleaseNotice(Key()), &receipt).ok());
  EXPECT_TRUE(pst_sub.WaitForMessage(receipt.message_id()));
  for (auto& c : contexts) c->TryCancel();
  for (auto& stream : streams) (void)stream->Finish();
}

// The counters count: a post, a duplicate and a refusal each move their own series by one.
TEST_F(ExchangeTest, MetricsCountPostsByResultAndHealthIsServed) {
  const std::string accepted = "infoflyt_posts_total{result=\"accepted\"}";
  const std::string duplicate = "infoflyt_posts_total{result=\"duplicate\"}";
  const std::string rejected = "infoflyt_posts_total{result=\"rejected\"}";
  const std::string batches = "infoflyt_commit_batch_size_count";
  const std::string before = daemon_->Metrics();
  ASSERT_FALSE(before.empty());
  auto prison = daemon_->Client("correctional-oslo-fengsel");
  const v1::Envelope envelope = ReleaseNotice(Key());
  v1::Receipt receipt;
  ASSERT_TRUE(prison->Post(envelope, &receipt).ok());
  ASSERT_TRUE(prison->Post(envelope, &receipt).ok());  // The retry: a duplicate.
  EXPECT_EQ(prison->Post(v1::Envelope(), &receipt).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  const std::string after = daemon_->Metrics();
  EXPECT_EQ(MetricValue(after, accepted), MetricValue(before, accepted) + 1) << after;
  EXPECT_EQ(MetricValue(after, duplicate), MetricValue(before, duplicate) + 1) << after;
  EXPECT_EQ(MetricValue(after, rejected), MetricValue(before, rejected) + 1) << after;
  EXPECT_GE(MetricValue(after, batches), MetricValue(before, batches) + 1) << after;
  EXPECT_EQ(MetricValue(after, "infoflyt_log_records"), daemon_->CountRows("disclosures")) << after;
  EXPECT_EQ(
      std::system(("curl -sf http://" + daemon_->http_address() + "/healthz >/dev/null").c_str()),
      0);
}

}  // namespace
}  // namespace infoflyt::testing
