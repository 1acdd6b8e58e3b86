// Loading the shipped catalogues, and refusing malformed ones with a message that says where.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/legal_basis.h"
#include "core/parties.h"
#include "core/places.h"
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
