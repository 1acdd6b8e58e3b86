// The disclosure policy of the shipped catalogue, checked for every combination of basis,
// sender kind, recipient kind and message type against the decisions documented here.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/disclosure_view.h"
#include "core/legal_basis.h"
#include "test_util.h"
#include "unit/test_envelopes.h"

namespace infoflyt {
namespace {

constexpr const char* kMunicipalRelease = "person,planned_at,home_municipality,contact";
constexpr const char* kMunicipalReturn = "person,returned_at,home_municipality,contact";

// "basis from to message" -> view, for every allowed disclosure; everything else is refused.
std::map<std::string, std::string> DocumentedDecisions() {
  std::map<std::string, std::string> allowed;
  auto allow = [&](const std::string& basis, const std::set<std::string>& from,
                   const std::set<std::string>& to, const std::set<std::string>& messages,
                   const std::string& view) {
    for (const auto& f : from)
      for (const auto& t : to)
        for (const auto& m : messages) allowed[basis + " " + f + " " + t + " " + m] = view;
  };
  allow("strgjfl-4i", {"correctional"}, {"police", "pst"}, {"release_notice"}, "*");
  allow("polregl-27-1", {"police", "pst"}, {"police", "pst"},
        {"return_notice", "case_update", "concern_report"}, "*");
  allow("polregl-27-2", {"police", "pst"}, {"police", "pst"}, {"return_notice", "case_update"},
        "*");
  allow("polregl-27-2", {"police", "pst"}, {"municipality"}, {"release_notice"}, kMunicipalRelease);
  allow("polregl-27-2", {"police", "pst"}, {"municipality"}, {"return_notice"}, kMunicipalReturn);
  allow("polregl-27-4", {"police"}, {"municipality"}, {"case_update"},
        "person,case_reference,home_municipality,contact");
  allow("polregl-27-4", {"municipality"}, {"police"}, {"concern_report"}, "*");
  allow("polregl-30", {"police", "pst"}, {"municipality"}, {"return_notice"}, kMunicipalReturn);
  allow("fvl-13b-5", {"municipality"}, {"police"}, {"concern_report"}, "*");
  allow("fvl-13b-6", {"municipality", "correctional"}, {"police"}, {"concern_report"}, "*");
  allow("fvl-13b-7", {"municipality", "correctional"}, {"police", "pst"},
        {"concern_report", "release_notice"}, "*");
  allow("strl-196", {"correctional", "municipality", "police"}, {"police", "pst"},
        {"release_notice", "concern_report", "case_update"}, "*");
  return allowed;
}

LegalBasisCatalogue Shipped() {
  LegalBasisCatalogue catalogue;
  const Status s =
      LegalBasisCatalogue::Parse(testing::ReadSourceFile("deploy/legal-bases.toml"), &catalogue);
  EXPECT_TRUE(s.ok()) << s.message();
  return catalogue;
}

TEST(PolicyTest, EveryCombinationInTheShippedCatalogueGivesTheDocumentedDecision) {
  const LegalBasisCatalogue catalogue = Shipped();
  const auto documented = DocumentedDecisions();
  const std::vector<PartyKind> kinds = {PartyKind::kCorrectional, PartyKind::kPolice,
                                        PartyKind::kPst,          PartyKind::kMunicipality,
                                        PartyKind::kAuditor,      PartyKind::kOperator};
  int allowed = 0;
  for (const auto& basis : catalogue.Ids()) {
    for (PartyKind from : kinds) {
      for (PartyKind to : kinds) {
        for (const char* type :
             {"release_notice", "return_notice", "case_update", "concern_report"}) {
          const std::string key = basis + " " + std::string(PartyKindName(from)) + " " +
                                  std::string(PartyKindName(to)) + " " + type;
          const Flow* flow = catalogue.Decide(basis, from, to, type);
          const auto it = documented.find(key);
          if (it == documented.end()) {
            EXPECT_EQ(flow, nullptr) << key << " should be refused";
          } else {
            ASSERT_NE(flow, nullptr) << key << " should be allowed";
            EXPECT_EQ(flow->ViewString(), it->second) << key;
            ++allowed;
          }
        }
      }
    }
  }
  EXPECT_EQ(allowed, static_cast<int>(documented.size()));
  // The headline cases.
  EXPECT_NE(catalogue.Decide("strgjfl-4i", PartyKind::kCorrectional, PartyKind::kPolice,
                             "release_notice"),
            nullptr);
  EXPECT_EQ(catalogue.Decide("strgjfl-4i", PartyKind::kCorrectional, PartyKind::kMunicipality,
                             "release_notice"),
            nullptr);
}

TEST(PolicyTest, MunicipalViewOfAReleaseNoticeLeavesOutNoteAndKind) {
  const LegalBasisCatalogue catalogue = Shipped();
  const Flow* flow =
      catalogue.Decide("polregl-27-2", PartyKind::kPst, PartyKind::kMunicipality, "release_notice");
  ASSERT_NE(flow, nullptr);
  const v1::Envelope full = testing::ReleaseNotice("k");
  const v1::Envelope seen = ApplyView(full, *flow);
  const auto& b = seen.release_notice();
  EXPECT_TRUE(b.note().empty());
  EXPECT_EQ(b.kind(), v1::RELEASE_KIND_UNSPECIFIED);
  EXPECT_EQ(b.person().national_id(), full.release_notice().person().national_id());
  EXPECT_EQ(b.planned_at().seconds(), full.release_notice().planned_at().seconds());
  EXPECT_EQ(b.home_municipality(), "0301");
  EXPECT_EQ(b.contact().phone(), full.release_notice().contact().phone());
  EXPECT_EQ(seen.legal_basis(), full.legal_basis());  // Envelope fields stay.
  EXPECT_EQ(seen.handling(), full.handling());
  // A full view changes nothing.
  const Flow* police = catalogue.Decide("strgjfl-4i", PartyKind::kCorrectional, PartyKind::kPolice,
                                        "release_notice");
  EXPECT_EQ(ApplyView(full, *police).SerializeAsString(), full.SerializeAsString());
}

TEST(PolicyTest, MalformedFlowsAreRejectedNamingTheLine) {
  const std::string head = "[[basis]]\nid = \"x\"\ncitation = \"c\"\ntitle = \"t\"\n";
  auto parse = [&](const std::string& flow) {
    LegalBasisCatalogue c;
    return LegalBasisCatalogue::Parse(head + "[[basis.flow]]\n" + flow, &c).message();
  };
  EXPECT_EQ(parse("from = [\"army\"]\nto = [\"police\"]\nmessages = [\"case_update\"]\n"
                  "view = \"full\"\n"),
            "legal-bases line 5: unknown party kind 'army' in from");
  EXPECT_EQ(parse("from = [\"police\"]\nto = [\"police\"]\nmessages = [\"gossip\"]\n"
                  "view = \"full\"\n"),
            "legal-bases line 5: unknown message type 'gossip'");
  EXPECT_EQ(parse("from = [\"police\"]\nto = [\"police\"]\nmessages = [\"case_update\"]\n"
                  "view = [\"person\", \"risk_score\"]\n"),
            "legal-bases line 5: view field 'risk_score' is not a field of case_update");
  EXPECT_EQ(parse("from = [\"police\"]\nto = [\"police\"]\nmessages = [\"case_update\"]\n"
                  "view = \"full\"\nwho = 1\n"),
            "legal-bases line 10: unknown key 'who'");
  EXPECT_NE(parse("from = [\"police\"]\nto = [\"police\"]\nmessages = [\"case_update\"]\n")
                .find("view must be"),
            std::string::npos);
}

}  // namespace
}  // namespace infoflyt
