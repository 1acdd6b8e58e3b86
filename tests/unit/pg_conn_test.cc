// PgConn's errors and logged warnings never carry a bound value: the server quotes values in
// DETAIL, CONTEXT and some primary messages, and a value may be an identity number.
#include "store/pg_conn.h"

#include <gtest/gtest.h>

#include "pg_cluster.h"

namespace infoflyt {
namespace {

using ::infoflyt::testing::PgCluster;

constexpr const char* kNumber = "15076500565";

class PgConnErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const Status& cluster = PgCluster::Shared().status();
    ASSERT_TRUE(cluster.ok()) << cluster.message();
    std::string database;
    ASSERT_TRUE(PgCluster::Shared().CreateDatabase(&database).ok());
    ASSERT_TRUE(PgConn::Connect(PgCluster::Shared().ConnInfo(database), "", nullptr, &conn_).ok());
    ASSERT_TRUE(conn_
                    ->Exec("CREATE TABLE people (id text CONSTRAINT people_id_key UNIQUE, "
                           "n bigint, note text CONSTRAINT short_note CHECK (length(note) < 5)); "
                           "CREATE FUNCTION complain(t text) RETURNS void AS $$ BEGIN "
                           "RAISE WARNING 'about %', t; RAISE EXCEPTION 'refused %', t; "
                           "END $$ LANGUAGE plpgsql")
                    .ok());
  }
  Status Insert(const std::string& id, const std::string& n, const std::string& note) {
    const PgParam params[] = {PgParam::Text(id), PgParam::Text(n), PgParam::Text(note)};
    return conn_->QueryOnce("INSERT INTO people (id, n, note) VALUES ($1, $2::bigint, $3)", params);
  }

  std::unique_ptr<PgConn> conn_;
};

// One test, not four: each test process starts its own PostgreSQL cluster.
TEST_F(PgConnErrorTest, ErrorsAndWarningsNeverQuoteABoundValue) {
  {
    SCOPED_TRACE("unique violation: DETAIL has Key (id)=(the value) already exists");
    ASSERT_TRUE(Insert(kNumber, "1", "a").ok());
    const Status s = Insert(kNumber, "1", "a");
    EXPECT_EQ(s.code(), Code::kAlreadyExists);
    EXPECT_EQ(s.message().find(kNumber), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("duplicate key value violates unique constraint"), std::string::npos)
        << s.message();
    EXPECT_NE(s.message().find("constraint=people_id_key"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("(SQLSTATE 23505)"), std::string::npos) << s.message();
  }
  {
    SCOPED_TRACE("check violation: DETAIL has Failing row contains (the row)");
    const Status s = Insert("x" + std::string(kNumber), "1", "much too long");
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
    EXPECT_EQ(s.message().find(kNumber), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("constraint=short_note"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("(SQLSTATE 23514)"), std::string::npos) << s.message();
  }
  {
    SCOPED_TRACE("data exception: the primary message quotes the value");
    const Status s = Insert("y", std::string(kNumber) + "x", "a");
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
    EXPECT_EQ(s.message().find(kNumber), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("(SQLSTATE 22P02)"), std::string::npos) << s.message();
  }
  {
    SCOPED_TRACE("RAISE WARNING and RAISE EXCEPTION with the value as argument");
    const PgParam params[] = {PgParam::Text(kNumber)};
    ::testing::internal::CaptureStderr();
    const Status s = conn_->QueryOnce("SELECT complain($1)", params);
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(s.message().find("(SQLSTATE P0001)"), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find(kNumber), std::string::npos) << s.message();
    EXPECT_NE(log.find("postgres: "), std::string::npos) << log;  // The warning was logged...
    EXPECT_EQ(log.find(kNumber), std::string::npos) << log;       // ...without the value.
  }
}

// Writes sent without waiting (pipeline mode): a failure is the first one, named by its
// statement, the next statements skipped; and a statement prepared in a failed pipeline can be
// sent again (its name is never given to another: PREPARE outlives a rolled-back pipeline).
// And COMMIT rides the same pipeline: it commits what was sent, and a transaction a failed
// statement aborted is rolled back with an error, never "committed" by the server's silent
// ROLLBACK.
TEST_F(PgConnErrorTest, PipelinedWritesAndCommitsReportTheFirstFailureAndCanBeSentAgain) {
  constexpr const char* kInsert = "INSERT INTO people (id, n) VALUES ($1, $2)";
  ASSERT_TRUE(conn_->Send(kInsert, {PgParam::Text("a"), PgParam::Int(1)}).ok());
  ASSERT_TRUE(conn_->Send(kInsert, {PgParam::Text("a"), PgParam::Int(2)}).ok());
  ASSERT_TRUE(conn_->Send(kInsert, {PgParam::Text("b"), PgParam::Int(3)}).ok());
  const Status failed = conn_->Sync();
  EXPECT_EQ(failed.code(), Code::kAlreadyExists) << failed.message();
  EXPECT_NE(failed.message().find("INSERT INTO people"), std::string::npos) << failed.message();
  constexpr const char* kOther = "INSERT INTO people (id, n, note) VALUES ($1, $2, 'x')";
  ASSERT_TRUE(conn_->Send(kOther, {PgParam::Text("c"), PgParam::Int(4)}).ok());
  ASSERT_TRUE(conn_->Send(kInsert, {PgParam::Text("d"), PgParam::Int(5)}).ok());
  const Status again = conn_->Sync();
  EXPECT_TRUE(again.ok()) << again.message();
  PgResult q;
  ASSERT_TRUE(conn_->Query("SELECT count(*) FROM people", {}, &q).ok());
  // Outside BEGIN a pipeline is one implicit transaction: the failed one stored nothing.
  EXPECT_EQ(q.Int(0, 0), 2);

  auto count = [&] {
    PgResult n;
    EXPECT_TRUE(conn_->Query("SELECT count(*) FROM people", {}, &n).ok());
    return n.Int(0, 0);
  };
  ASSERT_TRUE(conn_->SendCommand("BEGIN").ok());
  ASSERT_TRUE(conn_->Send(kInsert, {PgParam::Text("e"), PgParam::Int(6)}).ok());
  EXPECT_TRUE(conn_->Commit().ok());
  EXPECT_EQ(count(), 3);
  ASSERT_TRUE(conn_->SendCommand("BEGIN").ok());
  ASSERT_TRUE(conn_->Send(kInsert, {PgParam::Text("f"), PgParam::Int(7)}).ok());
  ASSERT_TRUE(conn_->Send(kInsert, {PgParam::Text("c"), PgParam::Int(8)}).ok());
  EXPECT_EQ(conn_->Commit().code(), Code::kAlreadyExists);
  EXPECT_EQ(count(), 3);  // "f" went with the rest.
  ASSERT_TRUE(conn_->Exec("BEGIN").ok());
  EXPECT_FALSE(conn_->Query(kInsert, {PgParam::Text("c"), PgParam::Int(9)}).ok());
  EXPECT_EQ(conn_->Commit().code(), Code::kInternal);  // Nothing outstanding, but aborted.
  ASSERT_TRUE(conn_->Exec("BEGIN").ok());
  EXPECT_FALSE(conn_->Query(kInsert, {PgParam::Text("c"), PgParam::Int(10)}).ok());
  ASSERT_TRUE(conn_->Send(kInsert, {PgParam::Text("g"), PgParam::Int(11)}).ok());
  EXPECT_FALSE(conn_->Commit().ok());  // Refused by the aborted transaction, and rolled back.
  EXPECT_EQ(count(), 3);
  EXPECT_TRUE(conn_->Exec("SELECT 1").ok());  // The session is usable again.
}

}  // namespace
}  // namespace infoflyt
