// The infoflyt command-line tool against the real daemon: output formats and exit codes.
#include <gtest/gtest.h>

#include <cstdio>

#include "integration/shared_daemon_test.h"

namespace infoflyt::testing {
namespace {

using Result = CliResult;

class CliTest : public SharedDaemonTest {
 protected:
  static Result Cli(const std::string& party, const std::string& args,
                    const std::string& env = "") {
    return daemon_->Cli(party, args, env);
  }
  static std::string Release(const std::string& extra) {
    return "post release --basis strgjfl-4i --given-name Ola --family-name Nordmann "
           "--municipality 0301 --contact-name Kari --contact-phone 22000000 --kind parole "
           "--at 2030-01-01T09:00:00Z " +
           extra;
  }
};

TEST_F(CliTest, PostSubscribeAckAndStatusEndToEnd) {
  const Result post = Cli("correctional-oslo-fengsel", "-o json " + Release(""),
                          "INFOFLYT_NATIONAL_ID=15076500565");
  ASSERT_EQ(post.exit_code, 0) << post.out;
  const size_t at = post.out.find("\"message_id\":\"");
  ASSERT_NE(at, std::string::npos) << post.out;
  const std::string message_id = post.out.substr(at + 14, 36);

  const Result sub = Cli("police-oslo", "-o json subscribe --ack --count 1");
  ASSERT_EQ(sub.exit_code, 0) << sub.out;
  EXPECT_NE(sub.out.find(message_id), std::string::npos) << sub.out;

  const Result status = Cli("correctional-oslo-fengsel", "status " + message_id);
  ASSERT_EQ(status.exit_code, 0) << status.out;
  EXPECT_NE(status.out.find("police/oslo: DELIVERY_STATE_ACKNOWLEDGED"), std::string::npos)
      << status.out;
}

TEST_F(CliTest, InvalidInputExits65AndNamesTheField) {
  const Result r = Cli("correctional-oslo-fengsel", "-o json " + Release(""),
                       "INFOFLYT_NATIONAL_ID=15076500564");
  EXPECT_EQ(r.exit_code, 65) << r.out;
  EXPECT_NE(r.out.find("\"field\":\"envelope.release_notice.person.national_id\""),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("15076500564"), std::string::npos);
}

TEST_F(CliTest, ExitCodesTellCausesApart) {
  EXPECT_EQ(Cli("police-oslo", "status 00000000-0000-0000-0000-000000000000").exit_code, 66);
  EXPECT_EQ(Cli("police-oslo", Release(""), "INFOFLYT_NATIONAL_ID=15076500565").exit_code, 77);
  EXPECT_EQ(Cli("police-oslo", "frobnicate").exit_code, 64);
  EXPECT_EQ(Cli("police-oslo", "--server 127.0.0.1:1 --timeout 2 status x").exit_code, 69);
  const Result help = Cli("police-oslo", "--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Exit codes"), std::string::npos);
}

TEST_F(CliTest, FlagAddListAndRemove) {
  const Result add =
      Cli("pst-pst", "-o json flag add --reason returned-foreign-fighter --basis polregl-27-2",
          "INFOFLYT_NATIONAL_ID=52037745650");
  ASSERT_EQ(add.exit_code, 0) << add.out;
  const size_t at = add.out.find("\"flag_id\":\"");
  ASSERT_NE(at, std::string::npos) << add.out;
  const std::string flag_id = add.out.substr(at + 11, 36);
  const Result list = Cli("police-oslo", "flag list --national-id 52037745650");
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find(flag_id + "  FLAG_REASON_RETURNED_FOREIGN_FIGHTER  by pst/pst"),
            std::string::npos)
      << list.out;
  EXPECT_EQ(Cli("municipality-0301", "flag list").exit_code, 77);
  const Result remove = Cli("pst-pst", "flag remove " + flag_id);
  EXPECT_EQ(remove.exit_code, 0) << remove.out;
  EXPECT_NE(remove.out.find("ended"), std::string::npos) << remove.out;
  EXPECT_EQ(Cli("pst-pst", "flag add --reason nonsense --basis polregl-27-2",
                "INFOFLYT_NATIONAL_ID=52037745650")
                .exit_code,
            64);
}

TEST_F(CliTest, AuditStatsCountsWhatWasPostedForAuditorsOnly) {
  ASSERT_EQ(
      Cli("correctional-oslo-fengsel", Release(""), "INFOFLYT_NATIONAL_ID=15076500565").exit_code,
      0);
  const Result stats = Cli("auditor-eos-utvalget", "-o json audit stats");
  ASSERT_EQ(stats.exit_code, 0) << stats.out;
  EXPECT_NE(stats.out.find("\"event\":\"disclose\""), std::string::npos) << stats.out;
  EXPECT_NE(stats.out.find("\"sender_kind\":\"correctional\""), std::string::npos) << stats.out;
  const Result table = Cli("auditor-eos-utvalget", "audit stats");
  ASSERT_EQ(table.exit_code, 0) << table.out;
  EXPECT_NE(table.out.find("MUNICIPALITY"), std::string::npos) << table.out;
  // A reversed period names the field; other kinds of party may not ask.
  const Result reversed = Cli("auditor-eos-utvalget",
                              "-o json audit stats --from 2030-01-02T00:00:00Z "
                              "--until 2030-01-01T00:00:00Z");
  EXPECT_EQ(reversed.exit_code, 65) << reversed.out;
  EXPECT_NE(reversed.out.find("\"field\":\"until\""), std::string::npos) << reversed.out;
  EXPECT_EQ(Cli("police-oslo", "audit stats").exit_code, 77);
}

TEST_F(CliTest, RetryWithTheSameKeyIsReportedAsAlreadyPosted) {
  const std::string args = Release("--idempotency-key cli-retry-1");
  ASSERT_EQ(Cli("correctional-oslo-fengsel", args, "INFOFLYT_NATIONAL_ID=15076500565").exit_code,
            0);
  const Result again = Cli("correctional-oslo-fengsel", args, "INFOFLYT_NATIONAL_ID=15076500565");
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("already posted"), std::string::npos) << again.out;
}

}  // namespace
}  // namespace infoflyt::testing
