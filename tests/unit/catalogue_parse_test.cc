// Loading the shipped catalogues, and refusing malformed ones with a message that says where.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "base/clock.h"
#include "core/legal_basis.h"
#include "core/parties.h"
#include "core/places.h"
#include "infoflyt/v1/messages.pb.h"
#include "test_util.h"

namespace infoflyt {
namespace {

using testing::ReadSourceFile;

Places ShippedPlaces() {
  Places places;
  EXPECT_TRUE(Places::Parse(ReadSourceFile("deploy/data/municipalities.csv"),
                            ReadSourceFile("deploy/data/police-districts.csv"), {}, &places)
                  .ok());
  return places;
}

TEST(LegalBasisCatalogueTest, ShippedCatalogueHasTheBriefsNineBases) {
  LegalBasisCatalogue catalogue;
  ASSERT_TRUE(
      LegalBasisCatalogue::Parse(ReadSourceFile("deploy/legal-bases.toml"), &catalogue).ok());
  EXPECT_EQ(catalogue.Ids(),
            (std::vector<std::string>{"fvl-13b-5", "fvl-13b-6", "fvl-13b-7", "polregl-27-1",
                                      "polregl-27-2", "polregl-27-4", "polregl-30", "strgjfl-4i",
                                      "strl-196"}));
  EXPECT_EQ(catalogue.Find("strgjfl-4i")->citation, "straffegjennomføringsloven § 4 i");
}

TEST(LegalBasisCatalogueTest, MalformedCatalogueNamesTheLine) {
  LegalBasisCatalogue catalogue;
  Status s = LegalBasisCatalogue::Parse("[[basis]]\nid = \"x\"\ncitation = \"c\"\n", &catalogue);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("line 1"), std::string::npos) << s.message();
  s = LegalBasisCatalogue::Parse("[[basis]]\nid = \"x\"\ncitation = \ntitle=\"t\"", &catalogue);
  EXPECT_NE(s.message().find("line 3"), std::string::npos) << s.message();
}

// The registry's rules: who ends whose flags, who lists them all; a "flag" flow shows whole
// flags; what the catalogue does not know is refused naming the line.
TEST(LegalBasisCatalogueTest, RegistryRulesAreReadAndChecked) {
  LegalBasisCatalogue shipped;
  ASSERT_TRUE(LegalBasisCatalogue::Parse(ReadSourceFile("deploy/legal-bases.toml"), &shipped).ok());
  const RegistryRules& rules = shipped.registry();
  EXPECT_TRUE(rules.MayListAll(PartyKind::kPst));
  EXPECT_FALSE(rules.MayListAll(PartyKind::kPolice));
  EXPECT_TRUE(rules.MayEndFlag(PartyKind::kPst, "pst/pst", PartyKind::kPolice, "police/oslo"));
  EXPECT_TRUE(
      rules.MayEndFlag(PartyKind::kPolice, "police/oslo", PartyKind::kPolice, "police/oslo"));
  EXPECT_FALSE(rules.MayEndFlag(PartyKind::kPolice, "police/oslo", PartyKind::kPst, "pst/pst"));
  EXPECT_FALSE(
      rules.MayEndFlag(PartyKind::kPolice, "police/oslo", PartyKind::kPolice, "police/vest"));
  EXPECT_TRUE(shipped.Find("strgjfl-4i")->CoversFlagsOf(PartyKind::kCorrectional));
  EXPECT_FALSE(shipped.Find("polregl-27-2")->CoversFlagsOf(PartyKind::kCorrectional));
  EXPECT_NE(shipped.Decide("polregl-27-1", PartyKind::kPst, PartyKind::kPolice, "flag"), nullptr);
  EXPECT_EQ(shipped.Decide("polregl-30", PartyKind::kPst, PartyKind::kPolice, "flag"), nullptr);
  // Municipal flows carry at most AMBER+STRICT; the police's carry anything.
  const Flow* municipal =
      shipped.Decide("polregl-27-2", PartyKind::kPst, PartyKind::kMunicipality, "return_notice");
  ASSERT_NE(municipal, nullptr);
  EXPECT_TRUE(municipal->Carries(v1::TLP_AMBER_STRICT));
  EXPECT_FALSE(municipal->Carries(v1::TLP_RED));
  EXPECT_TRUE(
      shipped.Decide("strgjfl-4i", PartyKind::kCorrectional, PartyKind::kPolice, "release_notice")
          ->Carries(v1::TLP_RED));

  LegalBasisCatalogue none;  // Without [registry]: owners only, nobody lists all.
  ASSERT_TRUE(
      LegalBasisCatalogue::Parse("[[basis]]\nid = \"x\"\ncitation = \"c\"\ntitle = \"t\"\n", &none)
          .ok());
  EXPECT_FALSE(none.registry().MayListAll(PartyKind::kPst));
  EXPECT_FALSE(none.registry().MayEndFlag(PartyKind::kPst, "pst/pst", PartyKind::kPolice, "p/o"));
  const std::string basis = "[[basis]]\nid = \"x\"\ncitation = \"c\"\ntitle = \"t\"\n";
  const std::pair<std::string, std::string> bad[] = {
      {"[registry]\nmay_list_all = [\"spy\"]\n", "unknown party kind 'spy' in may_list_all"},
      {"[registry]\nmay_end_others = { wizard = [\"pst\"] }\n", "unknown party kind 'wizard'"},
      {"[registry]\nmay_end_others = { pst = [\"elf\"] }\n", "unknown party kind 'elf'"},
      {"[registry]\nmay_end = 1\n", "line 2: unknown key 'may_end'"},
      {"[rules]\nx = 1\n", "unknown table 'rules'"},
      {"  [[basis.flow]]\n  from = [\"pst\"]\n  to = [\"police\"]\n  messages = [\"flag\"]\n"
       "  view = \"full\"\n  max_handling = \"TLP_PURPLE\"\n",
       "max_handling must be TLP_CLEAR"},
      {"  [[basis.flow]]\n  from = [\"pst\"]\n  to = [\"police\"]\n  messages = [\"flag\"]\n"
       "  view = [\"person\"]\n",
       "its view must be \"full\""},
  };
  for (const auto& [text, why] : bad) {
    LegalBasisCatalogue c;
    const Status s = LegalBasisCatalogue::Parse(
        text.starts_with("  [[basis.flow]]") ? basis + text : text + basis, &c);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << text;
    EXPECT_NE(s.message().find(why), std::string::npos) << text << " -> " << s.message();
  }
}

// [retention] sets the defaults, a basis may set its own; the shipped file keeps bodies 30 days
// after acknowledgement and 180 days at most.
TEST(LegalBasisCatalogueTest, RetentionIsReadPerBasisWithTheCataloguesDefaults) {
  LegalBasisCatalogue shipped;
  ASSERT_TRUE(LegalBasisCatalogue::Parse(ReadSourceFile("deploy/legal-bases.toml"), &shipped).ok());
  EXPECT_EQ(shipped.RetentionOf("strgjfl-4i").retain, 30 * kMicrosPerDay);
  EXPECT_EQ(shipped.RetentionOf("strgjfl-4i").retain_max, 180 * kMicrosPerDay);
  EXPECT_EQ(shipped.RetentionOf("retired-basis").retain_text, "30d");

  const std::string basis = "[[basis]]\nid = \"x\"\ncitation = \"c\"\ntitle = \"t\"\n";
  LegalBasisCatalogue catalogue;
  ASSERT_TRUE(LegalBasisCatalogue::Parse("[retention]\nretain = \"2d\"\nretain_max = \"20d\"\n" +
                                             basis + "retain = \"12h\"\n" +
                                             "[[basis]]\nid = \"y\"\ncitation = \"c\"\n"
                                             "title = \"t\"\n",
                                         &catalogue)
                  .ok());
  EXPECT_EQ(catalogue.RetentionOf("x").retain, 12 * 3600 * kMicrosPerSecond);
  EXPECT_EQ(catalogue.RetentionOf("x").retain_max, 20 * kMicrosPerDay);
  EXPECT_EQ(catalogue.RetentionOf("y").retain, 2 * kMicrosPerDay);
  EXPECT_EQ(catalogue.ShortestRetention(), 12 * 3600 * kMicrosPerSecond);
  LegalBasisCatalogue none;
  ASSERT_TRUE(LegalBasisCatalogue::Parse(basis, &none).ok());
  EXPECT_EQ(none.RetentionOf("x").retain, Retention::Default().retain);

  for (const auto& [text, why] : std::vector<std::pair<std::string, std::string>>{
           {basis + "retain = \"a month\"\n", "legal-bases line 5: retain: 'a month' is not a"},
           {basis + "retain_max = 30\n", "legal-bases line 5: retain_max: must be a duration"},
           {basis + "retain = \"0s\"\n", "legal-bases line 5: retain: must be at least 1s"},
           {"[retention]\nkeep = \"1d\"\n" + basis, "legal-bases line 2: unknown key 'keep'"}}) {
    const Status s = LegalBasisCatalogue::Parse(text, &none);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << text;
    EXPECT_EQ(s.message().find(why), 0u) << s.message();
  }
}

TEST(PartyRegistryTest, ShippedRegistryServesEveryDistrict) {
  const Places places = ShippedPlaces();
  PartyRegistry parties;
  const Status s = PartyRegistry::Parse(ReadSourceFile("deploy/parties.toml"), places, &parties);
  ASSERT_TRUE(s.ok()) << s.message();
  for (const auto& district : places.Districts()) {
    EXPECT_NE(parties.PoliceFor(district), nullptr) << district;
  }
  EXPECT_EQ(parties.OfKind(PartyKind::kPst).size(), 1u);
}

TEST(PartyRegistryTest, RefusesRegistriesThatWouldLeaveADistrictUnserved) {
  const Places places = ShippedPlaces();
  PartyRegistry parties;
  const Status s = PartyRegistry::Parse(
      "[[party]]\nkind = \"police\"\nid = \"oslo\"\nname = \"x\"\n"
      "police_district = \"Oslo politidistrikt\"\ncontact = { name = \"n\", phone = \"02800\" }\n",
      places, &parties);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("no police party serves"), std::string::npos) << s.message();
}

TEST(PartyRegistryTest, PoliceContactIsRequiredForPoliceAndOnlyThem) {
  const Places places = ShippedPlaces();
  PartyRegistry parties;
  Status s = PartyRegistry::Parse(
      "[[party]]\nkind = \"police\"\nid = \"oslo\"\nname = \"x\"\n"
      "police_district = \"Oslo politidistrikt\"\n",
      places, &parties);
  EXPECT_NE(s.message().find("line 1: police parties need contact"), std::string::npos)
      << s.message();
  s = PartyRegistry::Parse(
      "[[party]]\nkind = \"police\"\nid = \"oslo\"\nname = \"x\"\n"
      "police_district = \"Oslo politidistrikt\"\ncontact = { name = \"n\" }\n",
      places, &parties);
  EXPECT_NE(s.message().find("line 6: contact needs name and phone"), std::string::npos)
      << s.message();
  s = PartyRegistry::Parse(
      "[[party]]\nkind = \"pst\"\nid = \"pst\"\nname = \"x\"\n"
      "contact = { name = \"n\", phone = \"1\" }\n",
      places, &parties);
  EXPECT_NE(s.message().find("line 5: contact is a table"), std::string::npos) << s.message();
}

TEST(PartyRegistryTest, RefusesUnknownKindsKeysAndMunicipalities) {
  const Places places = ShippedPlaces();
  PartyRegistry parties;
  Status s = PartyRegistry::Parse("[[party]]\nkind = \"army\"\nid = \"x\"\n", places, &parties);
  EXPECT_NE(s.message().find("line 1: kind must be one of"), std::string::npos) << s.message();
  s = PartyRegistry::Parse("[[party]]\nkind = \"pst\"\nid = \"x\"\ncolour = \"red\"\n", places,
                           &parties);
  EXPECT_NE(s.message().find("line 4: unknown key 'colour'"), std::string::npos) << s.message();
  s = PartyRegistry::Parse("[[party]]\nkind = \"municipality\"\nid = \"9999\"\n", places, &parties);
  EXPECT_NE(s.message().find("known kommunenummer"), std::string::npos) << s.message();
  s = PartyRegistry::Parse("[[party]]\nkind = \"pst\"\nid = \"Bad Id\"\n", places, &parties);
  EXPECT_NE(s.message().find("id must be"), std::string::npos) << s.message();
}

TEST(PartyRegistryTest, AnAuditorsScopeNamesKindsAndIsForAuditorsOnly) {
  const Places places = ShippedPlaces();
  PartyRegistry parties;
  ASSERT_TRUE(PartyRegistry::Parse(ReadSourceFile("deploy/parties.toml"), places, &parties).ok());
  EXPECT_EQ(parties.Find(PartyKind::kAuditor, "datatilsynet")->out_of_scope,
            std::set<PartyKind>{PartyKind::kPst});
  EXPECT_TRUE(parties.Find(PartyKind::kAuditor, "eos-utvalget")->out_of_scope.empty());
  Status s = PartyRegistry::Parse(
      "[[party]]\nkind = \"auditor\"\nid = \"x\"\nout_of_scope = "
      "[\"army\"]\n",
      places, &parties);
  EXPECT_NE(s.message().find("line 4: out_of_scope entries must be party kinds"), std::string::npos)
      << s.message();
  s = PartyRegistry::Parse("[[party]]\nkind = \"pst\"\nid = \"x\"\nout_of_scope = [\"pst\"]\n",
                           places, &parties);
  EXPECT_NE(s.message().find("out_of_scope is for auditor parties"), std::string::npos)
      << s.message();
}

TEST(PlacesTest, MalformedCsvNamesFileAndLine) {
  Places places;
  Status s = Places::Parse("kommunenummer,name,fylke\n0301,Oslo\n", "h\n", {}, &places);
  EXPECT_EQ(s.message(), "municipalities line 2: expected 3 unquoted columns");
  s = Places::Parse("kommunenummer,name,fylke\n0301,Oslo,Oslo\n",
                    "h\n0302,X,Y,Oslo politidistrikt,\n", {}, &places);
  EXPECT_EQ(s.message(), "police districts line 2: unknown kommunenummer 0302");
  s = Places::Parse("kommunenummer,name,fylke\n0301,Oslo,Oslo\n", "h\n", {}, &places);
  EXPECT_EQ(s.message(), "police districts: no district for 0301");
}

}  // namespace
}  // namespace infoflyt
