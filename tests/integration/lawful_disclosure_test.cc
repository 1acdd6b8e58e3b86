// Flags, municipal notification and least-data views, against the real daemon over mTLS.
#include <gtest/gtest.h>

#include <set>

#include "integration/shared_daemon_test.h"
#include "integration/subscriber.h"
#include "unit/test_envelopes.h"

namespace infoflyt::testing {
namespace {

class LawfulDisclosureTest : public SharedDaemonTest {
 protected:
  // `party` (PST by default) flags the person citing `basis`.
  static v1::FlagRecord FlagPerson(const std::string& national_id,
                                   const std::string& party = "pst-pst",
                                   const std::string& basis = "polregl-27-2") {
    v1::FlagRecord flag;
    EXPECT_TRUE(daemon_->FlagPerson(national_id, &flag, party, basis).ok());
    return flag;
  }
  static std::vector<std::string> Recipients(const v1::Receipt& r) {
    return {r.recipients().begin(), r.recipients().end()};
  }
  // The names of the body fields present in a delivered envelope.
  static std::set<std::string> PresentBodyFields(const v1::Envelope& e) {
    const auto* body_field = v1::Envelope::descriptor()->FindFieldByNumber(e.body_case());
    const auto& body = v1::Envelope::GetReflection()->GetMessage(e, body_field);
    std::vector<const google::protobuf::FieldDescriptor*> fields;
    body.GetReflection()->ListFields(body, &fields);
    std::set<std::string> names;
    for (const auto* f : fields) names.insert(f->name());
    return names;
  }
};

TEST_F(LawfulDisclosureTest, FlaggedPersonsReleaseReachesTheMunicipalityWithTheMunicipalView) {
  const v1::FlagRecord flag = FlagPerson("29020012380");
  EXPECT_TRUE(flag.active());
  auto oslo = daemon_->Client("municipality-0301");
  Subscriber sub(oslo.get());
  auto prison = daemon_->Client("correctional-oslo-fengsel");
  v1::Receipt receipt;
  ASSERT_TRUE(prison->Post(ReleaseNotice(Key(), "29020012380", "0301"), &receipt).ok());
  // The municipality is told on PST's behalf: the prison's receipt does not say so (it would
  // tell the prison whom PST has flagged), and neither does its status.
  EXPECT_EQ(Recipients(receipt), (std::vector<std::string>{"police/oslo", "pst/pst"}));
  v1::MessageStatus status;
  ASSERT_TRUE(prison->GetMessageStatus(receipt.message_id(), &status).ok());
  EXPECT_EQ(status.recipients_size(), 2);
  ASSERT_TRUE(sub.WaitForMessage(receipt.message_id()));
  v1::Envelope seen;
  for (const auto& d : sub.deliveries()) {
    if (d.message_id() == receipt.message_id()) seen = d.envelope();
  }
  // Exactly who, when, where and whom to contact: no note, no release kind.
  EXPECT_EQ(PresentBodyFields(seen),
            (std::set<std::string>{"person", "planned_at", "home_municipality", "contact"}));
  EXPECT_EQ(seen.release_notice().person().national_id(), "29020012380");
  // Whom to contact is the police district, not the prison.
  EXPECT_EQ(seen.release_notice().contact().name(), "Radikaliseringskontakten");
  EXPECT_EQ(seen.release_notice().contact().unit(), "Oslo politidistrikt");
  EXPECT_EQ(seen.release_notice().contact().phone(), "02800");
  EXPECT_EQ(seen.legal_basis(), "polregl-27-2");  // The basis of this disclosure, not § 4 i.
  // Recorded as a disclosure under the flag's basis with the municipal view.
  EXPECT_EQ(daemon_->CountRows("disclosures WHERE message_id = '" + receipt.message_id() +
                               "' AND recipient = 'municipality/0301' AND outcome = 'disclosed' "
                               "AND legal_basis = 'polregl-27-2' AND view = "
                               "'person,planned_at,home_municipality,contact' AND reason = 'flag " +
                               flag.flag_id() + " by pst/pst'"),
            1);
  // The police district still gets everything.
  EXPECT_EQ(daemon_->CountRows("disclosures WHERE message_id = '" + receipt.message_id() +
                               "' AND recipient = 'police/oslo' AND view = '*'"),
            1);
}

TEST_F(LawfulDisclosureTest, UnflaggedPersonsReleaseDoesNotReachTheMunicipality) {
  auto prison = daemon_->Client("correctional-oslo-fengsel");
  v1::Receipt receipt;
  ASSERT_TRUE(prison->Post(ReleaseNotice(Key(), "12060355477", "0301"), &receipt).ok());
  EXPECT_EQ(Recipients(receipt), (std::vector<std::string>{"police/oslo", "pst/pst"}));

  // Nor once a flag has ended.
  const v1::FlagRecord flag = FlagPerson("12060355477");
  auto police = daemon_->Client("police-oslo");
  auto pst = daemon_->Client("pst-pst");
  v1::FlagRecord ended;
  ASSERT_TRUE(pst->Unflag(flag.flag_id(), &ended).ok());
  EXPECT_FALSE(ended.active());
  EXPECT_EQ(ended.unflagged_by(), "pst/pst");
  ASSERT_TRUE(prison->Post(ReleaseNotice(Key(), "12060355477", "0301"), &receipt).ok());
  EXPECT_EQ(Recipients(receipt), (std::vector<std::string>{"police/oslo", "pst/pst"}));
  // The history is kept.
  v1::ListFlagsRequest list;
  list.set_national_id("12060355477");
  list.set_include_inactive(true);
  v1::ListFlagsResponse flags;
  ASSERT_TRUE(police->ListFlags(list, &flags).ok());
  ASSERT_EQ(flags.flags_size(), 1);
  EXPECT_FALSE(flags.flags(0).active());
  list.set_include_inactive(false);
  ASSERT_TRUE(police->ListFlags(list, &flags).ok());
  EXPECT_EQ(flags.flags_size(), 0);
}

TEST_F(LawfulDisclosureTest, ReturnNoticeFromPstReachesMunicipalityAndDistrictPolice) {
  auto bergen = daemon_->Client("municipality-4601");
  Subscriber sub(bergen.get());
  auto pst = daemon_->Client("pst-pst");
  v1::Envelope e = ReturnNotice(Key(), kOtherValidFnr, "4601");
  e.mutable_return_notice()->set_note("Travelled via Turkey; see PST report.");
  v1::Receipt receipt;
  ASSERT_TRUE(pst->Post(e, &receipt).ok());
  EXPECT_EQ(Recipients(receipt), (std::vector<std::string>{"municipality/4601", "police/vest"}));
  ASSERT_TRUE(sub.WaitForMessage(receipt.message_id()));
  EXPECT_EQ(PresentBodyFields(sub.deliveries().back().envelope()),
            (std::set<std::string>{"person", "returned_at", "home_municipality", "contact"}));
}

TEST_F(LawfulDisclosureTest, AMunicipalityWithoutAPartyIsRecordedAsNotTold) {
  auto pst = daemon_->Client("pst-pst");
  v1::Receipt receipt;
  ASSERT_TRUE(pst->Post(ReturnNotice(Key(), kOtherValidFnr, "1101"), &receipt).ok());
  EXPECT_EQ(Recipients(receipt), std::vector<std::string>{"police/sor-vest"});
  ASSERT_EQ(receipt.refused_size(), 1);
  EXPECT_EQ(receipt.refused(0).party(), "municipality/1101");
  EXPECT_EQ(daemon_->CountRows("disclosures WHERE message_id = '" + receipt.message_id() +
                               "' AND recipient = 'municipality/1101' AND outcome = 'refused'"),
            1);
}

TEST_F(LawfulDisclosureTest, OnlyPstPoliceAndCorrectionalFlagAndOnlyPstAndPoliceReadFlags) {
  v1::FlagRequest request;
  request.set_national_id("02013299997");
  request.set_reason(v1::FLAG_REASON_TERROR_CONVICT);
  request.set_legal_basis("polregl-27-2");
  v1::FlagRecord flag;
  v1::ListFlagsResponse flags;
  auto municipality = daemon_->Client("municipality-0301");
  EXPECT_EQ(municipality->Flag(request, &flag).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(municipality->ListFlags({}, &flags).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  auto auditor = daemon_->Client("auditor-eos-utvalget");
  EXPECT_EQ(auditor->Flag(request, &flag).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  auto prison = daemon_->Client("correctional-ila-fengsel");
  // A flag's basis must let the flagger's kind share flags: § 27 is the police's, not a prison's.
  const grpc::Status wrong_basis = prison->Flag(request, &flag);
  EXPECT_EQ(wrong_basis.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(wrong_basis.error_message().find("polregl-27-2 has no \"flag\" flow from a "
                                             "correctional party"),
            std::string::npos)
      << wrong_basis.error_message();
  request.set_legal_basis("strgjfl-4i");
  ASSERT_TRUE(prison->Flag(request, &flag).ok());
  EXPECT_EQ(flag.flagged_by(), "correctional/ila-fengsel");
  EXPECT_EQ(prison->ListFlags({}, &flags).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  auto pst = daemon_->Client("pst-pst");
  ASSERT_TRUE(pst->ListFlags({}, &flags).ok());
  bool found = false;
  for (const auto& f : flags.flags()) found |= f.flag_id() == flag.flag_id();
  EXPECT_TRUE(found);
}

// Flags are owned: police cannot end PST's flag (refused, recorded, and the flag still brings
// the municipality in), PST can end a police flag, and every act is a record auditors find.
TEST_F(LawfulDisclosureTest, FlagsAreOwnedAndEveryRegistryActIsARecordAuditorsFind) {
  constexpr const char* kPerson = "14058810003";
  const v1::FlagRecord by_pst = FlagPerson(kPerson);
  auto police = daemon_->Client("police-oslo");
  v1::FlagRecord ended;
  const grpc::Status refused = police->Unflag(by_pst.flag_id(), &ended);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED) << refused.error_message();
  auto prison = daemon_->Client("correctional-oslo-fengsel");
  v1::Receipt receipt;
  ASSERT_TRUE(prison->Post(ReleaseNotice(Key(), kPerson, "0301"), &receipt).ok());
  EXPECT_EQ(daemon_->CountRows("disclosures WHERE message_id = '" + receipt.message_id() +
                               "' AND recipient = 'municipality/0301' AND outcome = 'disclosed' "
                               "AND on_behalf_of = 'pst/pst'"),
            1);

  const v1::FlagRecord by_police = FlagPerson(kPerson, "police-oslo", "polregl-27-1");
  // Police see their own flag and PST's (its basis has a pst -> police "flag" flow).
  v1::ListFlagsRequest lookup;
  lookup.set_national_id(kPerson);
  v1::ListFlagsResponse seen;
  ASSERT_TRUE(police->ListFlags(lookup, &seen).ok());
  EXPECT_EQ(seen.flags_size(), 2);
  v1::ListFlagsResponse all;
  EXPECT_EQ(police->ListFlags({}, &all).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  auto pst = daemon_->Client("pst-pst");
  ASSERT_TRUE(pst->Unflag(by_police.flag_id(), &ended).ok());
  EXPECT_EQ(ended.unflagged_by(), "pst/pst");

  // What an auditor finds for the person: both flags, the end, the lookup and what it showed.
  v1::QueryDisclosuresRequest query;
  query.set_national_id(kPerson);
  query.set_message_type("flag");
  v1::QueryDisclosuresResponse found;
  ASSERT_TRUE(daemon_->Client("auditor-eos-utvalget")->QueryDisclosures(query, &found).ok());
  std::multiset<std::string> acts;
  for (const v1::DisclosureRecord& r : found.records()) {
    acts.insert(r.event() + " " + r.sender() + " -> " + r.recipient());
  }
  EXPECT_EQ(acts, (std::multiset<std::string>{
                      "flag pst/pst -> pst/pst", "flag police/oslo -> police/oslo",
                      "read police/oslo -> police/oslo", "disclose pst/pst -> police/oslo",
                      "unflag pst/pst -> pst/pst"}));
  // Police's refused attempts are on the record too, without the person.
  EXPECT_GE(daemon_->CountRows("disclosures WHERE event = 'deny' AND sender = 'police/oslo' AND "
                               "reason LIKE 'Registry/Unflag: flag_id: %'"),
            1);
}

// A flow may cap the TLP level it carries: a TLP:RED notice about a flagged person reaches the
// police and PST, not the municipality, whose refusal is recorded.
TEST_F(LawfulDisclosureTest, ATlpRedNoticeIsNotGivenToTheMunicipalityAndTheRefusalIsRecorded) {
  constexpr const char* kPerson = "14058810194";
  FlagPerson(kPerson);
  auto prison = daemon_->Client("correctional-oslo-fengsel");
  v1::Envelope e = ReleaseNotice(Key(), kPerson, "0301");
  e.set_handling(v1::TLP_RED);
  v1::Receipt receipt;
  ASSERT_TRUE(prison->Post(e, &receipt).ok());
  EXPECT_EQ(Recipients(receipt), (std::vector<std::string>{"police/oslo", "pst/pst"}));
  EXPECT_EQ(daemon_->CountRows("disclosures WHERE message_id = '" + receipt.message_id() +
                               "' AND recipient = 'municipality/0301' AND outcome = 'refused' "
                               "AND reason LIKE '%carries at most TLP_AMBER_STRICT; this "
                               "message is TLP_RED'"),
            1);
  EXPECT_EQ(daemon_->CountRows("deliveries d JOIN messages m ON m.id = d.message WHERE "
                               "m.message_id = '" +
                               receipt.message_id() + "' AND d.recipient = 'municipality/0301'"),
            0);
}

TEST_F(LawfulDisclosureTest, BadFlagRequestsNameTheFieldAndStoreNothing) {
  auto pst = daemon_->Client("pst-pst");
  const int64_t before = daemon_->CountRows("flags");
  v1::FlagRequest request;
  request.set_national_id("15076500564");
  request.set_legal_basis("nope");
  request.mutable_expires_at()->set_seconds(1);
  v1::FlagRecord flag;
  const grpc::Status s = pst->Flag(request, &flag);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  std::vector<std::string> fields;
  for (const auto& v : client::FieldViolationsOf(s)) fields.push_back(v.field);
  EXPECT_EQ(fields,
            (std::vector<std::string>{"national_id", "reason", "legal_basis", "expires_at"}));
  EXPECT_EQ(s.error_message().find("15076500564"), std::string::npos);
  EXPECT_NE(s.error_message().find("valid ids: fvl-13b-5"), std::string::npos) << s.error_message();
  EXPECT_EQ(daemon_->CountRows("flags"), before);
  v1::FlagRecord none;
  EXPECT_EQ(pst->Unflag("no-such-flag", &none).error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace infoflyt::testing
