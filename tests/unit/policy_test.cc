// The disclosure policy of the shipped catalogue, checked for every combination of basis,
// sender kind, recipient kind and message type against the decisions documented here.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "base/crypto.h"
#include "core/disclosure_plan.h"
#include "core/disclosure_view.h"
#include "core/legal_basis.h"
#include "core/message_body.h"
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
  // Escalations of unacknowledged municipal notices, to the disclosing party and the police.
  allow("polregl-27-2", {"police", "pst"}, {"police", "pst"}, {"escalation_notice"}, "*");
  allow("polregl-27-4", {"police"}, {"police"}, {"escalation_notice"}, "*");
  allow("polregl-30", {"police", "pst"}, {"police", "pst"}, {"escalation_notice"}, "*");
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
        for (const char* type : {"release_notice", "return_notice", "case_update", "concern_report",
                                 "escalation_notice"}) {
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

// The disclosure plan (core/disclosure_plan.h) over the shipped catalogues.
class PlanTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto c = std::make_shared<Catalogs>();
    ASSERT_TRUE(Places::Parse(testing::ReadSourceFile("deploy/data/municipalities.csv"),
                              testing::ReadSourceFile("deploy/data/police-districts.csv"), {},
                              &c->places)
                    .ok());
    ASSERT_TRUE(
        PartyRegistry::Parse(testing::ReadSourceFile("deploy/parties.toml"), c->places, &c->parties)
            .ok());
    c->legal_bases = Shipped();
    catalogs_ = std::move(c);
  }
  static const Catalogs& catalogs() { return *catalogs_; }
  static const Party& P(const std::string& key) { return *catalogs().parties.FindByKey(key); }
  static FlagInfo Flag(const std::string& by, const std::string& basis) {
    FlagInfo f;
    f.flag_id = "f-" + by;
    f.flagged_by = by;
    f.legal_basis = basis;
    return f;
  }
  // An envelope of `type` about a person of Oslo (0301), under `basis`, at `level`.
  static v1::Envelope Of(const std::string& type, const std::string& basis,
                         v1::HandlingRestriction level) {
    v1::Envelope e = type == "release_notice"  ? testing::ReleaseNotice("")
                     : type == "return_notice" ? testing::ReturnNotice("")
                                               : testing::CaseUpdate("");
    if (type == "concern_report") {
      const v1::CaseUpdate update = e.case_update();
      auto* r = e.mutable_concern_report();
      *r->mutable_person() = update.person();
      r->set_home_municipality(update.home_municipality());
      r->set_level(v1::CONCERN_LEVEL_SERIOUS);
      r->set_description("Observed.");
      *r->mutable_contact() = update.contact();
    }
    e.clear_idempotency_key();
    e.set_legal_basis(basis);
    e.set_handling(level);
    return e;
  }
  inline static std::shared_ptr<const Catalogs> catalogs_;
};

// Every (sender kind, message type, basis, flags, TLP level): each routed recipient is given
// exactly what the documented decisions allow (under the cited basis, or for a municipality
// under a flag's basis on the flag owner's behalf), cut to the documented view and within the
// documented TLP cap (municipalities at most TLP_AMBER_STRICT), and is refused otherwise.
TEST_F(PlanTest, EveryCombinationGivesEachRecipientTheDocumentedDisclosureOrARefusal) {
  const auto documented = DocumentedDecisions();
  const std::vector<std::string> senders = {"correctional/oslo-fengsel", "police/oslo", "pst/pst",
                                            "municipality/0301"};
  const std::vector<std::vector<FlagInfo>> flag_sets = {
      {}, {Flag("pst/pst", "polregl-27-2")}, {Flag("police/oslo", "polregl-27-2")}};
  int disclosed = 0;
  int refused = 0;
  std::set<std::string> disclosed_combinations;
  for (const std::string& basis : catalogs().legal_bases.Ids()) {
    for (const std::string& sender_key : senders) {
      const Party& sender = P(sender_key);
      for (const char* type :
           {"release_notice", "return_notice", "case_update", "concern_report"}) {
        for (const auto& flags : flag_sets) {
          for (int level = v1::TLP_CLEAR; level <= v1::TLP_RED; ++level) {
            const auto tlp = static_cast<v1::HandlingRestriction>(level);
            const v1::Envelope e = Of(type, basis, tlp);
            DisclosurePlan plan;
            const Status s = PlanPost(sender, e, catalogs(), flags, 42, &plan);
            const std::string what = basis + " " + sender_key + " " + type +
                                     " flags=" + std::to_string(flags.size()) + " " +
                                     v1::HandlingRestriction_Name(tlp);
            if (!s.ok()) {
              EXPECT_EQ(s.code(), Code::kPermissionDenied) << what;  // Kind may not post it.
              continue;
            }
            std::set<std::string> seen;
            for (const RecipientDisclosure& r : plan.recipients) {
              const std::string to(PartyKindName(*KindOfKey(r.party)));
              auto it = documented.find(basis + " " + std::string(PartyKindName(sender.kind)) +
                                        " " + to + " " + type);
              std::string expected_basis;
              std::string expected_behalf;
              if (it == documented.end() && to == "municipality" && !flags.empty()) {
                const FlagInfo& f = flags[0];
                it = documented.find(f.legal_basis + " " +
                                     std::string(PartyKindName(*KindOfKey(f.flagged_by))) + " " +
                                     to + " " + type);
                expected_basis = f.legal_basis;
                if (f.flagged_by != sender_key) expected_behalf = f.flagged_by;
              }
              ASSERT_NE(it, documented.end()) << what << ": " << r.party << " was given it";
              EXPECT_EQ(r.view, it->second) << what << " " << r.party;
              EXPECT_EQ(r.legal_basis, expected_basis) << what << " " << r.party;
              EXPECT_EQ(r.on_behalf_of, expected_behalf) << what << " " << r.party;
              EXPECT_EQ(r.content_hash, Sha256(r.envelope)) << what;
              if (to == "municipality") {
                EXPECT_LE(level, v1::TLP_AMBER_STRICT) << what;
                EXPECT_EQ(r.ack_deadline, 42) << what;
                v1::Envelope given;
                ASSERT_TRUE(given.ParseFromString(r.envelope));
                // Whom to call: the district police, never the sending unit.
                EXPECT_EQ(BodyOf(given).type, type);
                const auto* field = v1::Envelope::descriptor()->FindFieldByName(type);
                const auto& body = v1::Envelope::GetReflection()->GetMessage(given, field);
                const auto* contact_field = body.GetDescriptor()->FindFieldByName("contact");
                const auto& contact = static_cast<const v1::Contact&>(
                    body.GetReflection()->GetMessage(body, contact_field));
                EXPECT_EQ(contact.name(), P("police/oslo").contact.name) << what;
              } else {
                EXPECT_FALSE(r.ack_deadline.has_value()) << what;
              }
              disclosed_combinations.insert(it->first);
              seen.insert(r.party);
              ++disclosed;
            }
            for (const RecipientRefusal& r : plan.refusals) {
              EXPECT_FALSE(seen.contains(r.party)) << what << ": " << r.party << " both ways";
              seen.insert(r.party);
              ++refused;
              const std::string to(PartyKindName(*KindOfKey(r.party)));
              const bool documented_flow = documented.contains(
                  basis + " " + std::string(PartyKindName(sender.kind)) + " " + to + " " + type);
              // A refusal of a documented flow is only ever for the TLP cap.
              if (documented_flow) {
                EXPECT_NE(r.reason.find("carries at most"), std::string::npos) << what;
              }
              // The sender never learns of a flag from a refusal.
              if (to == "municipality" && e.has_release_notice() && !flags.empty() &&
                  flags[0].flagged_by != sender_key) {
                EXPECT_EQ(r.on_behalf_of, flags[0].flagged_by) << what;
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(disclosed, 400);
  EXPECT_GT(refused, 500);
  // Every documented flow a sender here can use was exercised (concern reports by police go to
  // PST only; municipal flows are only reachable for Oslo's notices).
  for (const char* must :
       {"strgjfl-4i correctional police release_notice",
        "strgjfl-4i correctional pst release_notice",
        "polregl-27-2 pst municipality release_notice",
        "polregl-27-2 police municipality release_notice",
        "polregl-27-2 pst municipality return_notice", "polregl-30 pst municipality return_notice",
        "polregl-27-4 municipality police concern_report",
        "fvl-13b-7 correctional pst release_notice"}) {
    EXPECT_TRUE(disclosed_combinations.contains(must)) << must;
  }
}

TEST_F(PlanTest, AFlaggedPersonsReleaseTellsTheMunicipalityOnTheOwnersBehalfUnderItsBasis) {
  const v1::Envelope e = Of("release_notice", "strgjfl-4i", v1::TLP_AMBER);
  DisclosurePlan plan;
  ASSERT_TRUE(PlanPost(P("correctional/oslo-fengsel"), e, catalogs(),
                       {Flag("pst/pst", "polregl-27-2")}, std::nullopt, &plan)
                  .ok());
  ASSERT_EQ(plan.recipients.size(), 3u);
  EXPECT_TRUE(plan.refusals.empty());
  std::map<std::string, RecipientDisclosure> to;
  for (const RecipientDisclosure& r : plan.recipients) to[r.party] = r;
  const RecipientDisclosure& municipality = to["municipality/0301"];
  EXPECT_EQ(municipality.legal_basis, "polregl-27-2");
  EXPECT_EQ(municipality.on_behalf_of, "pst/pst");
  EXPECT_EQ(municipality.note, "flag f-pst/pst by pst/pst");
  // Police and PST share one rendering; the municipality's is its own, and says the basis.
  EXPECT_EQ(to["police/oslo"].envelope, to["pst/pst"].envelope);
  EXPECT_NE(to["police/oslo"].envelope, municipality.envelope);
  v1::Envelope given;
  ASSERT_TRUE(given.ParseFromString(municipality.envelope));
  EXPECT_EQ(given.legal_basis(), "polregl-27-2");
  EXPECT_TRUE(given.release_notice().note().empty());

  // At TLP_RED the municipality is refused, on PST's behalf.
  plan = {};
  ASSERT_TRUE(PlanPost(P("correctional/oslo-fengsel"),
                       Of("release_notice", "strgjfl-4i", v1::TLP_RED), catalogs(),
                       {Flag("pst/pst", "polregl-27-2")}, std::nullopt, &plan)
                  .ok());
  ASSERT_EQ(plan.refusals.size(), 1u);
  EXPECT_EQ(plan.refusals[0].party, "municipality/0301");
  EXPECT_EQ(plan.refusals[0].on_behalf_of, "pst/pst");
}

TEST_F(PlanTest, EscalationsGoWhereTheBasisLetsAndAreRefusedElsewhere) {
  v1::Envelope notice;
  notice.set_legal_basis("polregl-27-2");
  notice.mutable_escalation_notice()->set_municipality("municipality/0301");
  DisclosurePlan plan;
  PlanEscalation(notice, catalogs(), "municipality/0301", "polregl-27-2", "pst/pst", "late", &plan);
  ASSERT_EQ(plan.recipients.size(), 2u);
  EXPECT_EQ(plan.recipients[0].party, "police/oslo");
  EXPECT_EQ(plan.recipients[1].party, "pst/pst");
  EXPECT_EQ(plan.recipients[0].on_behalf_of, "pst/pst");  // PST's, though infoflytd sends it.
  EXPECT_EQ(plan.recipients[1].on_behalf_of, "pst/pst");
  EXPECT_EQ(plan.recipients[1].view, "*");
  EXPECT_TRUE(plan.refusals.empty());

  // A basis with no escalation flow: both are refused, and say why.
  plan = {};
  PlanEscalation(notice, catalogs(), "municipality/0301", "strgjfl-4i", "correctional/oslo-fengsel",
                 "late", &plan);
  EXPECT_TRUE(plan.recipients.empty());
  ASSERT_EQ(plan.refusals.size(), 2u);
  EXPECT_NE(plan.refusals[0].reason.find("allows no flow correctional -> "), std::string::npos)
      << plan.refusals[0].reason;
}

}  // namespace
}  // namespace infoflyt
