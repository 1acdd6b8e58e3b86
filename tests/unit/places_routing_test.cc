// Routing for every municipality in the shipped data, checked against the shipped CSV read
// independently here.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "core/parties.h"
#include "core/places.h"
#include "core/router.h"
#include "test_util.h"
#include "unit/test_envelopes.h"

namespace infoflyt {
namespace {

using testing::ReadSourceFile;

class RoutingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Places::Parse(ReadSourceFile("deploy/data/municipalities.csv"),
                              ReadSourceFile("deploy/data/police-districts.csv"), {}, &places_)
                    .ok());
    const Status s =
        PartyRegistry::Parse(ReadSourceFile("deploy/parties.toml"), places_, &parties_);
    ASSERT_TRUE(s.ok()) << s.message();
    // kommunenummer -> district, straight from the CSV.
    std::istringstream csv(ReadSourceFile("deploy/data/police-districts.csv"));
    std::string line;
    std::getline(csv, line);
    while (std::getline(csv, line)) {
      std::vector<std::string> f;
      std::stringstream row(line);
      for (std::string cell; std::getline(row, cell, ',');) f.push_back(cell);
      expected_district_[f[0]] = f[3];
    }
  }

  std::vector<std::string> RouteKeys(const Party& sender, const v1::Envelope& e) {
    std::vector<const Party*> recipients;
    const Status s = Route(sender, e, places_, parties_, &recipients);
    EXPECT_TRUE(s.ok()) << s.message();
    std::vector<std::string> keys;
    keys.reserve(recipients.size());
    for (const Party* p : recipients) keys.push_back(p->Key());
    return keys;
  }

  Places places_;
  PartyRegistry parties_;
  std::map<std::string, std::string> expected_district_;
};

TEST_F(RoutingTest, ShippedDataHas357MunicipalitiesIn12Districts) {
  EXPECT_EQ(places_.all().size(), 357u);
  EXPECT_EQ(places_.Districts().size(), 12u);
  EXPECT_EQ(expected_district_.size(), 357u);
}

TEST_F(RoutingTest, ReleaseNoticeGoesToTheHomeDistrictAndPstForEveryMunicipality) {
  const Party* prison = parties_.Find(PartyKind::kCorrectional, "oslo-fengsel");
  ASSERT_NE(prison, nullptr);
  for (const auto& [number, district] : expected_district_) {
    const auto keys = RouteKeys(*prison, testing::ReleaseNotice("k", testing::kValidFnr, number));
    ASSERT_EQ(keys.size(), 2u) << number;
    const Party* police = parties_.FindByKey(keys[0]);
    ASSERT_NE(police, nullptr);
    EXPECT_EQ(police->kind, PartyKind::kPolice) << number;
    EXPECT_EQ(police->police_district, district) << number;
    EXPECT_EQ(keys[1], "pst/pst") << number;
  }
}

TEST_F(RoutingTest, ReturnNoticeGoesToTheHomeDistrictAndMunicipalityForEveryMunicipality) {
  const Party* pst = parties_.Find(PartyKind::kPst, "pst");
  for (const auto& [number, district] : expected_district_) {
    std::vector<const Party*> recipients;
    std::vector<std::string> unconnected;
    ASSERT_TRUE(Route(*pst, testing::ReturnNotice("k", testing::kValidFnr, number), places_,
                      parties_, &recipients, false, &unconnected)
                    .ok());
    std::vector<std::string> police;
    std::vector<std::string> municipalities;
    for (const Party* p : recipients) {
      (p->kind == PartyKind::kPolice ? police : municipalities).push_back(p->Key());
    }
    ASSERT_EQ(police.size(), 1u) << number;
    EXPECT_EQ(parties_.FindByKey(police[0])->police_district, district) << number;
    // Told directly if connected to infoflyt, else named so the caller records it.
    const bool connected = parties_.Find(PartyKind::kMunicipality, number) != nullptr;
    EXPECT_EQ(municipalities, connected ? std::vector<std::string>{"municipality/" + number}
                                        : std::vector<std::string>{})
        << number;
    EXPECT_EQ(unconnected, connected ? std::vector<std::string>{}
                                     : std::vector<std::string>{"municipality/" + number})
        << number;
  }
}

TEST_F(RoutingTest, ReleaseNoticeAboutAFlaggedPersonAlsoGoesToTheMunicipality) {
  const Party* prison = parties_.Find(PartyKind::kCorrectional, "oslo-fengsel");
  std::vector<const Party*> recipients;
  std::vector<std::string> unconnected;
  ASSERT_TRUE(Route(*prison, testing::ReleaseNotice("k", testing::kValidFnr, "0301"), places_,
                    parties_, &recipients, true, &unconnected)
                  .ok());
  std::vector<std::string> keys;
  keys.reserve(recipients.size());
  for (const Party* p : recipients) keys.push_back(p->Key());
  EXPECT_EQ(keys, (std::vector<std::string>{"municipality/0301", "police/oslo", "pst/pst"}));
  ASSERT_TRUE(Route(*prison, testing::ReleaseNotice("k", testing::kValidFnr, "1101"), places_,
                    parties_, &recipients, true, &unconnected)
                  .ok());
  EXPECT_EQ(unconnected, std::vector<std::string>{"municipality/1101"});
}

TEST_F(RoutingTest, DisputedRowsFollowTheShippedTableAndCanBeOverridden) {
  EXPECT_EQ(places_.Find("5516")->police_district, "Troms politidistrikt");     // Gratangen
  EXPECT_EQ(places_.Find("4228")->police_district, "Sør-Vest politidistrikt");  // Sirdal
  Places overridden;
  ASSERT_TRUE(Places::Parse(ReadSourceFile("deploy/data/municipalities.csv"),
                            ReadSourceFile("deploy/data/police-districts.csv"),
                            {{"5516", "Nordland politidistrikt"}}, &overridden)
                  .ok());
  EXPECT_EQ(overridden.Find("5516")->police_district, "Nordland politidistrikt");
  EXPECT_FALSE(Places::Parse(ReadSourceFile("deploy/data/municipalities.csv"),
                             ReadSourceFile("deploy/data/police-districts.csv"),
                             {{"9999", "Oslo politidistrikt"}}, &overridden)
                   .ok());
}

TEST_F(RoutingTest, SenderNeverReceivesItsOwnMessage) {
  const Party* oslo_police = parties_.Find(PartyKind::kPolice, "oslo");
  EXPECT_EQ(RouteKeys(*oslo_police, testing::CaseUpdate("k", "0301")),
            std::vector<std::string>{"pst/pst"});
  EXPECT_EQ(RouteKeys(*oslo_police, testing::CaseUpdate("k", "5001")),
            (std::vector<std::string>{"police/trondelag", "pst/pst"}));
}

TEST_F(RoutingTest, OnlyTheRightKindsMayPostEachMessageType) {
  std::vector<const Party*> out;
  const Party* police = parties_.Find(PartyKind::kPolice, "oslo");
  const Party* municipality = parties_.Find(PartyKind::kMunicipality, "0301");
  const Party* auditor = parties_.Find(PartyKind::kAuditor, "datatilsynet");
  const Party* prison = parties_.Find(PartyKind::kCorrectional, "oslo-fengsel");
  EXPECT_EQ(Route(*police, testing::ReleaseNotice("k"), places_, parties_, &out).code(),
            Code::kPermissionDenied);
  EXPECT_EQ(Route(*prison, testing::ReturnNotice("k"), places_, parties_, &out).code(),
            Code::kPermissionDenied);
  EXPECT_EQ(Route(*municipality, testing::CaseUpdate("k"), places_, parties_, &out).code(),
            Code::kPermissionDenied);
  EXPECT_EQ(Route(*auditor, testing::ReleaseNotice("k"), places_, parties_, &out).code(),
            Code::kPermissionDenied);
  v1::Envelope concern = testing::CaseUpdate("k");
  auto* c = concern.mutable_concern_report();
  c->set_home_municipality("0301");
  EXPECT_TRUE(Route(*municipality, concern, places_, parties_, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]->Key(), "police/oslo");
  EXPECT_TRUE(Route(*police, concern, places_, parties_, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]->Key(), "pst/pst");
}

}  // namespace
}  // namespace infoflyt
