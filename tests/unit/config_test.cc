// The daemon's configuration file: acknowledgement deadlines and durations, unknown keys, and
// the shipped example files.
#include "ops/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "base/clock.h"
#include "ops/connection_limits.h"
#include "store/pg_conn.h"
#include "unit/test_envelopes.h"

namespace infoflyt {
namespace {

constexpr int64_t kHour = 3600 * kMicrosPerSecond;

TEST(DurationTest, ParsesUnitsAndCombinations) {
  int64_t us = 0;
  ASSERT_TRUE(ParseDuration("90s", &us).ok());
  EXPECT_EQ(us, 90 * kMicrosPerSecond);
  ASSERT_TRUE(ParseDuration("1h30m", &us).ok());
  EXPECT_EQ(us, 90 * (60 * kMicrosPerSecond));
  ASSERT_TRUE(ParseDuration("2d", &us).ok());
  EXPECT_EQ(us, 48 * kHour);
  for (const char* bad : {"", "24", "h", "24x", "1h30", "-5m", "1.5h", "9999999h"}) {
    EXPECT_FALSE(ParseDuration(bad, &us).ok()) << bad;
  }
}

TEST(AckDeadlinesTest, EarliestOfWithinAndBeforeEventButNeverSoonerThanAtLeast) {
  AckDeadlines deadlines;
  deadlines.Set("release_notice", {48 * kHour, 24 * kHour, 2 * kHour});
  v1::Envelope release = testing::ReleaseNotice("k");
  const int64_t posted = release.release_notice().planned_at().seconds() * kMicrosPerSecond -
                         10 * (24 * kHour);                        // Ten days before the release.
  EXPECT_EQ(deadlines.For(release, posted), posted + 48 * kHour);  // within is earlier.
  // Release in 20 hours: the day-before deadline has passed, at_least gives two hours.
  EXPECT_EQ(deadlines.For(release, posted + 9 * (24 * kHour) + 4 * kHour),
            posted + 9 * (24 * kHour) + 6 * kHour);
  // Release in 30 hours: the day before is sooner than within.
  EXPECT_EQ(deadlines.For(release, posted + 9 * (24 * kHour) - 6 * kHour),
            posted + 9 * (24 * kHour));
  // No rule for the type: no deadline.
  EXPECT_FALSE(deadlines.For(testing::ReturnNotice("k"), posted).has_value());
}

class ConfigFileTest : public ::testing::Test {
 protected:
  Status Load(const std::string& text) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("infoflyt-config-" + std::to_string(::getpid()) + ".toml");
    std::ofstream(path) << text;
    config_ = Config();
    Status s = LoadConfigFile(path.string(), &config_);
    std::filesystem::remove(path);
    return s;
  }
  Config config_;
};

TEST_F(ConfigFileTest, AcknowledgementTablesReplaceTheDefaultRule) {
  ASSERT_TRUE(Load("[acknowledgement.return_notice]\nwithin = \"3s\"\n").ok());
  const auto& rules = config_.ack_deadlines.rules();
  EXPECT_EQ(rules.at("return_notice").within, 3 * kMicrosPerSecond);
  EXPECT_FALSE(rules.at("return_notice").before_event.has_value());
  EXPECT_EQ(rules.at("release_notice").before_event, 24 * kHour);  // Default kept.
}

TEST_F(ConfigFileTest, BadAcknowledgementSettingsNameTheLineAndKey) {
  Status s = Load("[acknowledgement.case_update]\nwithin = \"1h\"\n");
  EXPECT_NE(s.message().find("line 1: acknowledgement.case_update: only release_notice"),
            std::string::npos)
      << s.message();
  s = Load("[acknowledgement.return_notice]\nwithin = \"soon\"\n");
  EXPECT_NE(s.message().find("acknowledgement.return_notice.within: 'soon' is not a duration"),
            std::string::npos)
      << s.message();
  s = Load("[acknowledgement.return_notice]\nafter = \"1h\"\n");
  EXPECT_NE(s.message().find("unknown key after"), std::string::npos) << s.message();
  s = Load("[acknowledgement.return_notice]\nat_least = \"1h\"\n");
  EXPECT_NE(s.message().find("needs within or before_event"), std::string::npos) << s.message();
}

TEST_F(ConfigFileTest, PostgresNeedsAConnectionStringWithoutAPassword) {
  Config base;
  ASSERT_TRUE(
      LoadConfigFile(std::string(INFOFLYT_SOURCE_DIR) + "/deploy/infoflytd.toml", &base).ok());
  Config c = base;
  c.store = "postgres";
  EXPECT_NE(CheckConfig(c).message().find("store.postgres_conninfo is required"),
            std::string::npos);
  c.postgres_conninfo = "host=db.example.no dbname=infoflyt user=infoflytd sslmode=verify-full";
  EXPECT_TRUE(CheckConfig(c).ok()) << CheckConfig(c).message();
  c.postgres_conninfo = "postgresql://infoflytd@db.example.no/infoflyt?sslmode=verify-full";
  EXPECT_TRUE(CheckConfig(c).ok()) << CheckConfig(c).message();
  for (const char* with_password :
       {"host=db dbname=infoflyt password=hunter2", "postgresql://infoflytd:hunter2@db/infoflyt"}) {
    c.postgres_conninfo = with_password;
    const Status s = CheckConfig(c);
    EXPECT_NE(s.message().find("holds a password"), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find("hunter2"), std::string::npos) << s.message();
  }
  c.postgres_conninfo = "host=db nonsense=1";
  EXPECT_EQ(CheckConfig(c).code(), Code::kInvalidArgument);
  c.store = "mysql";
  EXPECT_NE(CheckConfig(c).message().find("\"sqlite\" or \"postgres\""), std::string::npos);
}

// A session to another machine must authenticate the server and encrypt; local ones need not.
TEST_F(ConfigFileTest, PostgresOnAnotherHostNeedsVerifyFull) {
  for (const char* local :
       {"dbname=infoflyt", "host=/run/postgresql dbname=infoflyt", "host=localhost dbname=x",
        "host=127.0.0.1 port=5432 dbname=x", "hostaddr=::1 dbname=x",
        "postgresql:///infoflyt?host=/var/run/postgresql"}) {
    EXPECT_TRUE(CheckConnInfo(local).ok()) << local << ": " << CheckConnInfo(local).message();
  }
  for (const char* remote :
       {"host=db.example.no dbname=x", "host=db.example.no sslmode=require dbname=x",
        "host=localhost,db2.example.no sslmode=verify-ca dbname=x", "hostaddr=10.0.0.5 dbname=x",
        "postgresql://infoflytd@db.example.no/infoflyt"}) {
    const Status s = CheckConnInfo(remote);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << remote;
    EXPECT_NE(s.message().find("without sslmode=verify-full"), std::string::npos) << s.message();
  }
  EXPECT_TRUE(CheckConnInfo("host=localhost,db2.example.no sslmode=verify-full dbname=x").ok());
}

// libpq also reads PGHOST, PGSSLMODE and service files: what the string leaves to them counts.
TEST_F(ConfigFileTest, PostgresHostFromTheEnvironmentNeedsVerifyFullToo) {
  // Whatever the test sets, the rest of the suite gets the environment it had.
  struct SavedEnvironment {
    std::vector<std::pair<std::string, std::optional<std::string>>> saved;
    SavedEnvironment() {
      for (const char* name : {"PGHOST", "PGSSLMODE", "PGSERVICE"}) {
        const char* value = std::getenv(name);
        saved.emplace_back(name, value ? std::optional<std::string>(value) : std::nullopt);
        unsetenv(name);
      }
    }
    ~SavedEnvironment() {
      for (const auto& [name, value] : saved) {
        if (value) {
          setenv(name.c_str(), value->c_str(), 1);
        } else {
          unsetenv(name.c_str());
        }
      }
    }
  } saved;
  ASSERT_EQ(setenv("PGHOST", "db.example.no", 1), 0);
  EXPECT_NE(CheckConnInfo("dbname=x").message().find("names host db.example.no without"),
            std::string::npos);
  ASSERT_EQ(setenv("PGSSLMODE", "verify-full", 1), 0);
  EXPECT_TRUE(CheckConnInfo("dbname=x").ok());
  EXPECT_EQ(CheckConnInfo("dbname=x sslmode=require").code(), Code::kInvalidArgument);
  unsetenv("PGSSLMODE");
  EXPECT_TRUE(CheckConnInfo("host=/run/postgresql dbname=x").ok());
  unsetenv("PGHOST");
  EXPECT_NE(CheckConnInfo("service=infoflyt").message().find("names a service"), std::string::npos);
  ASSERT_EQ(setenv("PGSERVICE", "infoflyt", 1), 0);
  EXPECT_NE(CheckConnInfo("dbname=x").message().find("PGSERVICE is set"), std::string::npos);
  unsetenv("PGSERVICE");
  EXPECT_TRUE(CheckConnInfo("dbname=x").ok());
}

TEST_F(ConfigFileTest, SqliteCacheIsReadAndBounded) {
  ASSERT_TRUE(Load("[store]\nsqlite_cache_mib = 48\n").ok());
  EXPECT_EQ(config_.sqlite_cache_mib, 48u);
  Config c;
  ASSERT_TRUE(LoadConfigFile(std::string(INFOFLYT_SOURCE_DIR) + "/deploy/infoflytd.toml", &c).ok());
  c.sqlite_cache_mib = 0;
  EXPECT_NE(CheckConfig(c).message().find("store.sqlite_cache_mib"), std::string::npos);
}

TEST_F(ConfigFileTest, PostgresSettingsAreRead) {
  ASSERT_TRUE(Load("[store]\nbackend = \"postgres\"\npostgres_conninfo = \"dbname=x\"\n"
                   "postgres_password_file = \"/run/secrets/pg\"\n")
                  .ok());
  EXPECT_EQ(config_.store, "postgres");
  EXPECT_EQ(config_.postgres_conninfo, "dbname=x");
  EXPECT_EQ(config_.postgres_password_file, "/run/secrets/pg");
}

TEST_F(ConfigFileTest, TrustAndLimitSettingsAreReadAndChecked) {
  ASSERT_TRUE(Load("[server]\nhandshake_timeout = \"3s\"\nself_probe_interval = \"2s\"\n"
                   "restart_wedged_listener = false\nmemory_quota_mib = 256\n"
                   "[tls]\nrequire_fresh_crl = true\ntrust_domain_issuers = [\"CN=a\", \"CN=b\"]\n"
                   "[store]\nmax_queued_ops = 7\n")
                  .ok());
  EXPECT_EQ(config_.handshake_timeout, 3 * kMicrosPerSecond);
  EXPECT_EQ(config_.self_probe_interval, 2 * kMicrosPerSecond);
  EXPECT_FALSE(config_.restart_wedged_listener);
  EXPECT_EQ(config_.memory_quota_mib, 256u);
  EXPECT_TRUE(config_.require_fresh_crl);
  EXPECT_EQ(config_.max_queued_ops, 7u);
  EXPECT_EQ(config_.trust_domain_issuers, (std::vector<std::string>{"CN=a", "CN=b"}));
  Config c;
  ASSERT_TRUE(LoadConfigFile(std::string(INFOFLYT_SOURCE_DIR) + "/deploy/infoflytd.toml", &c).ok());
  c.crl_directory.clear();
  c.require_fresh_crl = true;
  EXPECT_EQ(CheckConfig(c).message(), "tls.require_fresh_crl needs tls.crl_directory");
  c.require_fresh_crl = false;
  c.trust_domain_issuers = {""};
  EXPECT_NE(CheckConfig(c).message().find("tls.trust_domain_issuers"), std::string::npos);
  c.trust_domain_issuers.clear();
  c.max_queued_ops = 0;
  EXPECT_NE(CheckConfig(c).message().find("store.max_queued_ops"), std::string::npos);
}

TEST_F(ConfigFileTest, ConnectionCapsAreCheckedAndBecomeNftRules) {
  ASSERT_TRUE(Load("[server]\nlisten = \"[::]:7555\"\nmax_connections = 300\n"
                   "max_connections_per_source = 30\n")
                  .ok());
  std::string rules;
  ASSERT_TRUE(NftConnectionLimits(config_, &rules).ok());
  EXPECT_NE(rules.find("tcp dport != 7555 accept"), std::string::npos) << rules;
  EXPECT_NE(rules.find("{ ip saddr ct count over 30 }"), std::string::npos) << rules;
  EXPECT_NE(rules.find("ct count over 300 counter name refused_total"), std::string::npos);
  config_.listen = "[::]";
  EXPECT_NE(NftConnectionLimits(config_, &rules).message().find("server.listen must be host:port"),
            std::string::npos);
  config_.listen = "[::]:0";
  EXPECT_NE(NftConnectionLimits(config_, &rules).message().find("port 0"), std::string::npos);
  Config c;
  ASSERT_TRUE(LoadConfigFile(std::string(INFOFLYT_SOURCE_DIR) + "/deploy/infoflytd.toml", &c).ok());
  c.max_connections_per_source = c.max_connections + 1;
  EXPECT_NE(CheckConfig(c).message().find("server.max_connections_per_source"), std::string::npos)
      << CheckConfig(c).message();
}

// A value of the wrong type or sign is refused naming its key and line, not read as 0, a huge
// number or an empty string.
TEST_F(ConfigFileTest, ValuesOfTheWrongTypeAreRefusedNamingTheKey) {
  const std::pair<const char*, const char*> bad[] = {
      {"[server]\nmax_connections = -1\n", "line 2: server.max_connections must be a whole"},
      {"[server]\nmax_connections = \"100\"\n", "server.max_connections must be a whole"},
      {"[store]\ncommit_batch = 1.5\n", "store.commit_batch must be a whole"},
      {"[server]\nrestart_wedged_listener = \"no\"\n",
       "server.restart_wedged_listener must be true or false"},
      {"[server]\nlisten = 5055\n", "server.listen must be a string"},
      {"[tls]\ncert = 7\n", "tls.cert must be a file name"},
      {"[tls]\ntrust_domain_issuers = \"CN=a\"\n", "tls.trust_domain_issuers must be a list"},
      {"[tls]\ntrust_domain_issuers = [\"CN=a\", 2]\n", "must be a list of strings"},
      {"[server]\nhandshake_timeout = 3\n", "server.handshake_timeout must be a duration"},
      {"[district_overrides]\n\"0301\" = 7\n",
       "line 2: district_overrides.0301 must be a police district's name"},
  };
  for (const auto& [text, why] : bad) {
    const Status s = Load(text);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << text;
    EXPECT_NE(s.message().find(why), std::string::npos) << text << " -> " << s.message();
  }
  EXPECT_TRUE(Load("[tls]\ntrust_domain_issuers = []\n").ok());
}

TEST_F(ConfigFileTest, ListenAddressesMustBeHostAndPort) {
  Config c;
  ASSERT_TRUE(LoadConfigFile(std::string(INFOFLYT_SOURCE_DIR) + "/deploy/infoflytd.toml", &c).ok());
  for (const char* bad :
       {"localhost", ":50051", "::1:50051", "[::1]:70000", "[]:1", "a:-1", "a:5x"}) {
    c.listen = bad;
    EXPECT_NE(CheckConfig(c).message().find("server.listen must be host:port"), std::string::npos)
        << bad << ": " << CheckConfig(c).message();
  }
  c.listen = "[::1]:0";
  EXPECT_TRUE(CheckConfig(c).ok());
  c.http_listen = "127.0.0.1";
  EXPECT_NE(CheckConfig(c).message().find("server.http_listen must be host:port"),
            std::string::npos);
}

TEST_F(ConfigFileTest, ShippedConfigurationsLoadAndPassTheChecks) {
  for (const char* file : {"deploy/infoflytd.toml", "deploy/infoflytd.dev.toml"}) {
    Config config;
    const Status s = LoadConfigFile(std::string(INFOFLYT_SOURCE_DIR) + "/" + file, &config);
    ASSERT_TRUE(s.ok()) << file << ": " << s.message();
    EXPECT_TRUE(CheckConfig(config).ok()) << file;
  }
}

}  // namespace
}  // namespace infoflyt
