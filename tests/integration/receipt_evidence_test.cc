// Receipts as evidence, against the real daemon: an Ack is one "acknowledge" record, and the
// bundle `infoflyt status --evidence` saves verifies offline with the log's key alone, and only
// untouched, under that key and against its own checkpoint. Each party's evidence holds only
// the recipients it may see.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "integration/shared_daemon_test.h"
#include "integration/subscriber.h"
#include "merkle/record_leaf.h"
#include "merkle/signed_note.h"
#include "receipt_verify.h"
#include "test_util.h"
#include "unit/test_envelopes.h"

namespace infoflyt::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUnflagged = "14058810275";
constexpr const char* kFlagged = "03028911180";

class ReceiptEvidenceTest : public SharedDaemonTest {
 protected:
  static std::string Path(const std::string& name) {
    return fs::path(daemon_->db_path()).parent_path() / name;
  }
  static std::string KeyFile() { return daemon_->log_key_path() + ".pub"; }
  static void Write(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }
  // Posts a release notice from the prison; the prison's receipt.
  static v1::Receipt Release(const std::string& national_id) {
    v1::Receipt receipt;
    EXPECT_TRUE(daemon_->Client("correctional-oslo-fengsel")
                    ->Post(ReleaseNotice(Key(), national_id, "0301"), &receipt)
                    .ok());
    return receipt;
  }
  // `party` receives the message and acknowledges its delivery (twice: once is new).
  static void ReceiveAndAck(const std::string& party, const std::string& message_id) {
    auto client = daemon_->Client(party);
    Subscriber sub(client.get());
    ASSERT_TRUE(sub.WaitForMessage(message_id));
    for (const v1::Delivery& d : sub.deliveries()) {
      if (d.message_id() != message_id) continue;
      v1::AckResponse first;
      v1::AckResponse again;
      ASSERT_TRUE(client->Ack({d.delivery_id()}, &first).ok());
      ASSERT_TRUE(client->Ack({d.delivery_id()}, &again).ok());
      EXPECT_EQ(first.newly_acknowledged(), 1u);
      EXPECT_EQ(again.newly_acknowledged(), 0u);
    }
  }
  static CliResult SaveEvidence(const std::string& party, const std::string& message_id,
                                const std::string& file) {
    return daemon_->Cli(party, "status " + message_id + " --evidence " + file);
  }
  static CliResult VerifyReceipt(const std::string& file, const std::string& key_file) {
    return daemon_->Cli("police-oslo", "audit verify-receipt " + file + " --key " + key_file);
  }
  static v1::ReceiptEvidence Parse(const std::string& file) {
    v1::ReceiptEvidence e;
    EXPECT_TRUE(e.ParseFromString(ReadFile(file)));
    return e;
  }
};

TEST_F(ReceiptEvidenceTest, AnAckIsOneRecordAndTheSavedReceiptVerifiesOffline) {
  const v1::Receipt receipt = Release(kUnflagged);
  const std::string before = Path("before-ack.evidence");
  ASSERT_EQ(SaveEvidence("correctional-oslo-fengsel", receipt.message_id(), before).exit_code, 0);
  ReceiveAndAck("police-oslo", receipt.message_id());
  EXPECT_EQ(daemon_->CountRows("disclosures WHERE event = 'acknowledge' AND message_id = '" +
                               receipt.message_id() + "'"),
            1);
  const std::string file = Path("acknowledged.evidence");
  const CliResult saved = SaveEvidence("correctional-oslo-fengsel", receipt.message_id(), file);
  ASSERT_EQ(saved.exit_code, 0) << saved.out;

  const CliResult ok = VerifyReceipt(file, KeyFile());
  ASSERT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("police/oslo acknowledged message " + receipt.message_id() + " at "),
            std::string::npos)
      << ok.out;
  EXPECT_NE(ok.out.find("pst/pst was delivered message " + receipt.message_id()), std::string::npos)
      << ok.out;
  EXPECT_NE(ok.out.find("proven against checkpoint size "), std::string::npos) << ok.out;
  const CliResult earlier = VerifyReceipt(before, KeyFile());
  ASSERT_EQ(earlier.exit_code, 0) << earlier.out;
  EXPECT_NE(earlier.out.find("police/oslo was delivered message"), std::string::npos);

  // Any byte changed: every position, checked by the verifier the CLI runs; a few by the CLI.
  const std::string bytes = ReadFile(file);
  const std::string key = [] {
    std::string k = ReadFile(KeyFile());
    return k.substr(0, k.find_last_not_of("\n") + 1);
  }();
  ASSERT_TRUE(client::VerifyReceiptEvidence(bytes, key).ok);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string changed = bytes;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    EXPECT_FALSE(client::VerifyReceiptEvidence(changed, key).ok) << "byte " << i;
  }
  for (size_t i : {size_t{3}, bytes.size() / 2, bytes.size() - 1}) {
    std::string changed = bytes;
    changed[i] = static_cast<char>(changed[i] ^ 0x20);
    Write(Path("changed.evidence"), changed);
    EXPECT_EQ(VerifyReceipt(Path("changed.evidence"), KeyFile()).exit_code, 65) << "byte " << i;
  }

  // Proofs from one checkpoint shown with another's note.
  v1::ReceiptEvidence mixed = Parse(file);
  mixed.set_checkpoint_note(Parse(before).checkpoint_note());
  Write(Path("mixed.evidence"), merkle::DeterministicBytes(mixed));
  const CliResult other_checkpoint = VerifyReceipt(Path("mixed.evidence"), KeyFile());
  EXPECT_EQ(other_checkpoint.exit_code, 65) << other_checkpoint.out;
  EXPECT_NE(other_checkpoint.out.find("is not proven to be in the tree"), std::string::npos)
      << other_checkpoint.out;

  // Another key of the same name.
  std::unique_ptr<merkle::NoteSigner> impostor;
  ASSERT_TRUE(merkle::NoteSigner::Generate(key.substr(0, key.find('+')), &impostor).ok());
  Write(Path("impostor.pub"), impostor->VerifierKey() + "\n");
  const CliResult wrong_key = VerifyReceipt(file, Path("impostor.pub"));
  EXPECT_EQ(wrong_key.exit_code, 65) << wrong_key.out;

  // Well-formed and signed, but misleading: each is refused, saying why.
  const v1::ReceiptEvidence genuine = Parse(file);
  ASSERT_EQ(genuine.recipients_size(), 2);
  ASSERT_TRUE(genuine.recipients(0).has_acknowledgement());  // police/oslo's.
  std::unique_ptr<merkle::NoteSigner> log_key;
  std::string private_key = ReadFile(daemon_->log_key_path());
  private_key.erase(private_key.find_last_not_of("\n") + 1);
  ASSERT_TRUE(merkle::NoteSigner::FromPrivateKey(private_key, &log_key).ok());
  merkle::Checkpoint signed_checkpoint;
  std::string text;
  {
    std::unique_ptr<merkle::NoteVerifier> verifier;
    ASSERT_TRUE(merkle::NoteVerifier::FromVerifierKey(key, &verifier).ok());
    ASSERT_TRUE(verifier->VerifyNote(genuine.checkpoint_note(), &text).ok());
    ASSERT_TRUE(merkle::Checkpoint::Parse(text, &signed_checkpoint).ok());
  }
  signed_checkpoint.origin = "another.example/log";
  std::string other_origin;
  ASSERT_TRUE(signed_checkpoint.Format(&text).ok());
  ASSERT_TRUE(log_key->SignNote(text, &other_origin).ok());
  const std::vector<std::pair<std::string, std::function<void(v1::ReceiptEvidence*)>>> lies = {
      {"appears twice", [](v1::ReceiptEvidence* e) { *e->add_recipients() = e->recipients(0); }},
      {"is not of the delivery in disclosure record",
       [](v1::ReceiptEvidence* e) {
         *e->mutable_recipients(1)->mutable_acknowledgement() = e->recipients(0).acknowledgement();
       }},
      {"not of the key's log",
       [&](v1::ReceiptEvidence* e) { e->set_checkpoint_note(other_origin); }},
  };
  for (const auto& [why, lie] : lies) {
    v1::ReceiptEvidence changed = genuine;
    lie(&changed);
    const client::ReceiptVerifyResult r =
        client::VerifyReceiptEvidence(merkle::DeterministicBytes(changed), key);
    EXPECT_FALSE(r.ok) << why;
    EXPECT_NE(r.message.find(why), std::string::npos) << r.message;
  }
  // Bytes added as a field this build does not know.
  EXPECT_FALSE(client::VerifyReceiptEvidence(bytes + std::string("\xf8\x07\x01", 3), key).ok);
  // Leaving the acknowledgement out is not proof that there was none, and says so.
  v1::ReceiptEvidence without_ack = genuine;
  without_ack.mutable_recipients(0)->clear_acknowledgement();
  Write(Path("without-ack.evidence"), merkle::DeterministicBytes(without_ack));
  const CliResult partial = VerifyReceipt(Path("without-ack.evidence"), KeyFile());
  EXPECT_EQ(partial.exit_code, 0);
  EXPECT_NE(partial.out.find("no acknowledgement in this evidence (its absence is not proven)"),
            std::string::npos)
      << partial.out;
}

// The prison's evidence of a release notice about a person PST flagged leaves out the
// municipality told on PST's behalf; PST's evidence and status of the same message show it,
// acknowledged, as evidence for PST.
TEST_F(ReceiptEvidenceTest, EachPartysEvidenceHoldsOnlyTheRecipientsItMaySee) {
  v1::FlagRecord flagged;
  ASSERT_TRUE(daemon_->FlagPerson(kFlagged, &flagged).ok());
  const v1::Receipt receipt = Release(kFlagged);
  ReceiveAndAck("municipality-0301", receipt.message_id());

  v1::ReceiptEvidence prisons;
  ASSERT_TRUE(daemon_->Client("correctional-oslo-fengsel")
                  ->GetReceiptEvidence(receipt.message_id(), &prisons)
                  .ok());
  ASSERT_EQ(prisons.recipients_size(), 2);
  for (const auto& r : prisons.recipients()) {
    EXPECT_NE(r.disclosure().record().recipient(), "municipality/0301");
  }
  v1::MessageStatus status;
  ASSERT_TRUE(daemon_->Client("pst-pst")->GetMessageStatus(receipt.message_id(), &status).ok());
  ASSERT_EQ(status.recipients_size(), 1);
  EXPECT_EQ(status.recipients(0).party(), "municipality/0301");
  EXPECT_EQ(status.recipients(0).state(), v1::DELIVERY_STATE_ACKNOWLEDGED);

  const std::string file = Path("pst.evidence");
  ASSERT_EQ(SaveEvidence("pst-pst", receipt.message_id(), file).exit_code, 0);
  const CliResult ok = VerifyReceipt(file, KeyFile());
  ASSERT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("municipality/0301 acknowledged message " + receipt.message_id()),
            std::string::npos)
      << ok.out;
  EXPECT_EQ(Parse(file).recipients_size(), 1);
  // Someone with no recipient of it to see is told there is no such message.
  EXPECT_EQ(daemon_
                ->Cli("police-oslo",
                      "status " + receipt.message_id() + " --evidence " + Path("none.evidence"))
                .exit_code,
            66);
}

}  // namespace
}  // namespace infoflyt::testing
