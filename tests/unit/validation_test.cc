#include "core/validation.h"

#include <gtest/gtest.h>

#include "base/clock.h"
#include "unit/test_envelopes.h"

namespace infoflyt {
namespace {

constexpr const char* kMunicipalities = "kommunenummer,name,fylke\n0301,Oslo,Oslo\n";
constexpr const char* kDistricts =
    "kommunenummer,kommune,fylke,politidistrikt,note\n0301,Oslo,Oslo,Oslo politidistrikt,\n";
constexpr const char* kBases =
    "[[basis]]\nid = \"strgjfl-4i\"\ncitation = \"c\"\ntitle = \"t\"\n"
    "[[basis]]\nid = \"polregl-27-2\"\ncitation = \"c\"\ntitle = \"t\"\n";

class ValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Places::Parse(kMunicipalities, kDistricts, {}, &places_).ok());
    ASSERT_TRUE(LegalBasisCatalogue::Parse(kBases, &bases_).ok());
  }
  Status Validate(const v1::Envelope& e) {
    return ValidateEnvelope(e, places_, bases_, NowMicros());
  }
  static std::vector<std::string> Fields(const Status& s) {
    std::vector<std::string> fields;
    for (const auto& v : s.violations()) fields.push_back(v.field);
    return fields;
  }

  Places places_;
  LegalBasisCatalogue bases_;
};

TEST_F(ValidationTest, AcceptsValidMessages) {
  EXPECT_TRUE(Validate(testing::ReleaseNotice("k-1")).ok());
  EXPECT_TRUE(Validate(testing::ReturnNotice("k-1")).ok());
}

// A field this daemon does not know would pass every view: refused, wherever it is.
TEST_F(ValidationTest, UnknownFieldsAtAnyDepthAreNamedWithTheirNumber) {
  v1::Envelope e = testing::ReleaseNotice("k-1");
  auto* person = e.mutable_release_notice()->mutable_person();
  person->GetReflection()->MutableUnknownFields(person)->AddVarint(99, 1);
  e.GetReflection()->MutableUnknownFields(&e)->AddLengthDelimited(4242, "hidden");
  const Status s = Validate(e);
  ASSERT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(Fields(s), (std::vector<std::string>{"envelope", "envelope.release_notice.person"}));
  EXPECT_NE(s.violations()[0].description.find("field number 4242"), std::string::npos);
  EXPECT_NE(s.violations()[1].description.find("field number 99"), std::string::npos);
}

TEST_F(ValidationTest, InvalidIdentityNumberNamesTheFieldAndNeverEchoesTheNumber) {
  const Status s = Validate(testing::ReleaseNotice("k", "15076500564"));
  ASSERT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(Fields(s), std::vector<std::string>{"envelope.release_notice.person.national_id"});
  EXPECT_EQ(s.message().find("15076500564"), std::string::npos);
  EXPECT_EQ(s.violations()[0].description.find("1507650056"), std::string::npos);
}

TEST_F(ValidationTest, NumberPutInTheMunicipalityFieldIsNotEchoed) {
  const Status s = Validate(testing::ReleaseNotice("k", testing::kValidFnr, "15076500565"));
  EXPECT_EQ(Fields(s), std::vector<std::string>{"envelope.release_notice.home_municipality"});
  EXPECT_EQ(s.message().find("1507"), std::string::npos);
}

TEST_F(ValidationTest, ReportsEveryMissingRequiredField) {
  v1::Envelope e;
  e.mutable_release_notice();
  const Status s = Validate(e);
  EXPECT_EQ(Fields(s),
            (std::vector<std::string>{
                "envelope.idempotency_key", "envelope.legal_basis", "envelope.handling",
                "envelope.release_notice.person", "envelope.release_notice.kind",
                "envelope.release_notice.planned_at", "envelope.release_notice.home_municipality",
                "envelope.release_notice.contact"}));
}

TEST_F(ValidationTest, MissingBodyIsNamed) {
  v1::Envelope e = testing::ReleaseNotice("k");
  e.clear_release_notice();
  EXPECT_EQ(Fields(Validate(e)), std::vector<std::string>{"envelope.body"});
}

TEST_F(ValidationTest, UnknownLegalBasisListsTheValidIds) {
  v1::Envelope e = testing::ReleaseNotice("k");
  e.set_legal_basis("gdpr-6");
  const Status s = Validate(e);
  ASSERT_EQ(Fields(s), std::vector<std::string>{"envelope.legal_basis"});
  EXPECT_NE(s.message().find("polregl-27-2, strgjfl-4i"), std::string::npos) << s.message();
}

TEST_F(ValidationTest, TimesOutsideTheSaneWindowAreRefused) {
  v1::Envelope e = testing::ReleaseNotice("k");
  e.mutable_release_notice()->mutable_planned_at()->set_seconds(0);  // 1970.
  EXPECT_EQ(Fields(Validate(e)), std::vector<std::string>{"envelope.release_notice.planned_at"});
  e.mutable_release_notice()->mutable_planned_at()->set_seconds(4102444800);  // 2100.
  EXPECT_EQ(Fields(Validate(e)), std::vector<std::string>{"envelope.release_notice.planned_at"});
  v1::Envelope r = testing::ReturnNotice("k");
  r.mutable_return_notice()->mutable_returned_at()->set_seconds(NowMicros() / 1000000 +
                                                                int64_t{7} * 86400);
  EXPECT_EQ(Fields(Validate(r)), std::vector<std::string>{"envelope.return_notice.returned_at"});
}

TEST_F(ValidationTest, OversizedTextAndBadContactAreRefused) {
  v1::Envelope e = testing::ReleaseNotice("k");
  e.mutable_release_notice()->set_note(std::string(4001, 'x'));
  e.mutable_release_notice()->mutable_contact()->set_phone("call me");
  e.mutable_release_notice()->mutable_contact()->set_email("nobody");
  EXPECT_EQ(Fields(Validate(e)), (std::vector<std::string>{"envelope.release_notice.contact.phone",
                                                           "envelope.release_notice.contact.email",
                                                           "envelope.release_notice.note"}));
}

TEST_F(ValidationTest, IdempotencyKeyMustBeShortAndPlain) {
  v1::Envelope e = testing::ReleaseNotice(std::string(129, 'a'));
  EXPECT_EQ(Fields(Validate(e)), std::vector<std::string>{"envelope.idempotency_key"});
  e.set_idempotency_key("has space");
  EXPECT_EQ(Fields(Validate(e)), std::vector<std::string>{"envelope.idempotency_key"});
}

TEST_F(ValidationTest, UnspecifiedEnumsAreRefused) {
  v1::Envelope e = testing::ReleaseNotice("k");
  e.set_handling(v1::HANDLING_RESTRICTION_UNSPECIFIED);
  e.mutable_release_notice()->set_kind(static_cast<v1::ReleaseKind>(42));
  EXPECT_EQ(Fields(Validate(e)),
            (std::vector<std::string>{"envelope.handling", "envelope.release_notice.kind"}));
}

}  // namespace
}  // namespace infoflyt
