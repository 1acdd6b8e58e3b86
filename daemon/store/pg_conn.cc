#include "store/pg_conn.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/log.h"

namespace infoflyt {
namespace {

// Type OIDs from PostgreSQL's pg_type.dat (stable across versions); the client headers that
// define them (catalog/pg_type_d.h) come with the server's development package, not libpq's.
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;

// libpq's messages span lines and end in one; ours (and log lines) are one line each.
std::string OneLine(const char* message) {
  std::string line;
  for (const char* c = message; c != nullptr && *c != '\0'; ++c) {
    if (*c != '\n' && *c != '\t' && *c != ' ') {
      line += *c;
    } else if (!line.empty() && line.back() != ' ') {
      line += ' ';
    }
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

// SQLSTATE classes whose primary messages name only parts of the schema and of our SQL, never
// a value bound to the statement. (Data exceptions, class 22, quote the value: "invalid input
// syntax for type bigint: \"...\"".)
bool PrimaryMessageIsValueFree(std::string_view sqlstate) {
  static constexpr std::string_view kClasses[] = {"08", "23", "25", "40", "42",
                                                  "53", "55", "57", "58", "XX"};
  return std::ranges::any_of(kClasses,
                             [&](std::string_view c) { return sqlstate.substr(0, 2) == c; });
}

// The part of a server error that may go to logs and to callers. A bound value may be personal
// data, and the server quotes them: in DETAIL ("Key (subject_hash)=(...) already exists",
// "Failing row contains (...)"), in CONTEXT, and in some primary messages. So the whole message
// is never passed on (PQresultErrorMessage would); kept are only the SQLSTATE, the primary
// message of the classes above, and the names of the table, column and constraint involved.
std::string ValueFreeError(const PGresult* result) {
  const char* field = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const std::string sqlstate = field != nullptr ? field : "";
  std::string line;
  if (const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
      primary != nullptr && PrimaryMessageIsValueFree(sqlstate)) {
    line = OneLine(primary);
  } else {
    line = "server error (message withheld: it may quote a value)";
  }
  for (auto [name, code] :
       {std::pair{"table", PG_DIAG_TABLE_NAME}, std::pair{"column", PG_DIAG_COLUMN_NAME},
        std::pair{"constraint", PG_DIAG_CONSTRAINT_NAME}}) {
    if (const char* value = PQresultErrorField(result, code); value != nullptr && *value) {
      line += std::string(" ") + name + "=" + value;
    }
  }
  if (!sqlstate.empty()) line += " (SQLSTATE " + sqlstate + ")";
  return line;
}

// Server warnings go to our log; notices (e.g. "already exists, skipping") are noise.
void OnNotice(void* /*arg*/, const PGresult* result) {
  const char* severity = PQresultErrorField(result, PG_DIAG_SEVERITY_NONLOCALIZED);
  if (severity != nullptr && std::strcmp(severity, "WARNING") == 0) {
    LogWarning("postgres: " + ValueFreeError(result));
  }
}

// What the caller should do about a failed statement, from its SQLSTATE class: errors caused
// by the values in it (the op's own data) fail that op; a bug in our SQL is internal; anything
// else (connection lost, server shutting down, deadlock, serialisation failure, out of
// resources) is worth retrying.
Code CodeOf(const char* sqlstate) {
  if (sqlstate == nullptr || std::strlen(sqlstate) != 5) return Code::kUnavailable;
  const std::string_view state(sqlstate);
  if (state == "23505") return Code::kAlreadyExists;  // unique_violation
  const std::string_view error_class = state.substr(0, 2);
  if (error_class == "22" || error_class == "23") return Code::kInvalidArgument;
  if (error_class == "42" || error_class == "XX") return Code::kInternal;
  return Code::kUnavailable;
}

// A Unix-socket directory or a loopback name or address: the session stays on this machine.
bool IsLocalHost(std::string_view host) {
  return host.empty() || host.starts_with('/') || host.starts_with('@') || host == "localhost" ||
         host.starts_with("127.") || host == "::1";
}

void PutBigEndian64(uint64_t v, char* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

}  // namespace

PgParam PgParam::Int(int64_t value) {
  std::string bytes(8, '\0');
  PutBigEndian64(static_cast<uint64_t>(value), bytes.data());
  return {kInt8Oid, 1, std::move(bytes)};
}

PgParam PgParam::Int(std::optional<int64_t> value) {
  return value ? Int(*value) : PgParam(kInt8Oid, 1, std::nullopt);
}

PgParam PgParam::Text(std::string_view value) { return {0, 0, std::string(value)}; }

PgParam PgParam::Bytes(std::string_view value) { return {kByteaOid, 1, std::string(value)}; }

int64_t PgResult::Int(int row, int column) const {
  if (IsNull(row, column)) return 0;
  const auto* bytes =
      reinterpret_cast<const unsigned char*>(PQgetvalue(result_.get(), row, column));
  const int length = PQgetlength(result_.get(), row, column);
  if (PQftype(result_.get(), column) == kBoolOid) return bytes[0] != 0;
  // Big-endian two's complement of 2, 4 or 8 bytes, sign-extended.
  uint64_t v = (bytes[0] & 0x80) ? ~uint64_t{0} : 0;
  for (int i = 0; i < length; ++i) v = (v << 8) | bytes[i];
  return static_cast<int64_t>(v);
}

std::string PgResult::Text(int row, int column) const {
  if (IsNull(row, column)) return {};
  return {PQgetvalue(result_.get(), row, column),
          static_cast<size_t>(PQgetlength(result_.get(), row, column))};
}

int64_t PgResult::Affected() const {
  const char* n = result_ ? PQcmdTuples(result_.get()) : "";
  return *n == '\0' ? 0 : std::stoll(n);
}

Status CheckConnInfo(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* raw = PQconninfoParse(conninfo.c_str(), &error);
  if (raw == nullptr) {
    std::string why = error ? error : "out of memory";
    PQfreemem(error);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return {Code::kInvalidArgument, "not a PostgreSQL connection string: " + why};
  }
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(raw, &PQconninfoFree);
  // What libpq takes from the environment (PGHOST, PGSSLMODE...) where the string is silent:
  // the session is to what both say together.
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> defaults(PQconndefaults(),
                                                                        &PQconninfoFree);
  if (!defaults) return {Code::kResourceExhausted, "reading libpq's defaults: out of memory"};
  if (const char* service = std::getenv("PGSERVICE"); service != nullptr && *service != '\0') {
    return {Code::kInvalidArgument,
            "PGSERVICE is set: a service file may name another host; name it in the connection "
            "string instead"};
  }
  std::string hosts;
  std::string sslmode;
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    const std::string_view keyword = o->keyword;
    std::string value = o->val != nullptr ? o->val : "";
    if (value.empty()) {
      for (const PQconninfoOption* d = defaults.get(); d->keyword != nullptr; ++d) {
        if (keyword == d->keyword && d->val != nullptr) value = d->val;
      }
    }
    if (keyword == "password" && o->val != nullptr && *o->val != '\0') {
      return {Code::kInvalidArgument,
              "holds a password: use a password file or libpq's PGPASSWORD or passfile instead"};
    }
    if (keyword == "service" && !value.empty()) {
      return {Code::kInvalidArgument,
              "names a service: a service file may name another host; name it in the connection "
              "string instead"};
    }
    if (keyword == "host" || keyword == "hostaddr") hosts += value + ",";
    if (keyword == "sslmode") sslmode = value;
  }
  // Across a network only an authenticated, encrypted session will do: anything short of
  // verify-full lets a machine in the middle read and answer the daemon's queries.
  for (size_t start = 0, end; start < hosts.size(); start = end + 1) {
    end = hosts.find(',', start);
    const std::string host = hosts.substr(start, end - start);
    if (IsLocalHost(host) || sslmode == "verify-full") continue;
    return {Code::kInvalidArgument,
            "names host " + host +
                " without sslmode=verify-full: a session to another machine "
                "must authenticate the server and encrypt (set sslmode and "
                "sslrootcert)"};
  }
  return Status::Ok();
}

Status PgConn::Connect(const std::string& conninfo, const std::string& password, const char* setup,
                       std::unique_ptr<PgConn>* out) {
  // The caller's conninfo is expanded in place of dbname: it overrides what precedes it (our
  // defaults) and is overridden by what follows it.
  const char* keywords[] = {"connect_timeout",
                            "keepalives_idle",
                            "keepalives_interval",
                            "keepalives_count",
                            "dbname",
                            "client_encoding",
                            "fallback_application_name",
                            password.empty() ? nullptr : "password",
                            nullptr};
  const char* values[] = {
      "10", "30", "10", "3", conninfo.c_str(), "UTF8", "infoflytd", password.c_str(), nullptr};
  std::unique_ptr<PgConn> conn(new PgConn());
  conn->conn_.reset(PQconnectdbParams(keywords, values, 1));
  if (!conn->conn_) return {Code::kUnavailable, "postgres: out of memory connecting"};
  if (PQstatus(conn->conn_.get()) != CONNECTION_OK) {
    return {Code::kUnavailable,
            "postgres: cannot connect: " + OneLine(PQerrorMessage(conn->conn_.get()))};
  }
  // Text columns are returned as UTF-8 bytes; a database in another encoding could not store
  // every value the daemon writes.
  const char* encoding = PQparameterStatus(conn->conn_.get(), "server_encoding");
  if (encoding == nullptr || std::string_view(encoding) != "UTF8") {
    return {Code::kFailedPrecondition,
            std::string("postgres: the database must use UTF8 encoding, not ") +
                (encoding ? encoding : "unknown")};
  }
  PQsetNoticeReceiver(conn->conn_.get(), &OnNotice, nullptr);
  conn->setup_ = setup;
  if (setup != nullptr) {
    if (Status s = conn->Exec(setup); !s.ok()) return s;
  }
  *out = std::move(conn);
  return Status::Ok();
}

Status PgConn::Check(PGresult* raw, std::string_view what, PgResult* out) {
  PgResult result;
  result.result_.reset(raw);
  const ExecStatusType st = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    if (out != nullptr) *out = std::move(result);
    return Status::Ok();
  }
  const char* sqlstate = raw ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
  // No SQLSTATE: the failure is libpq's own, e.g. the connection was lost. Its message is not
  // passed on either: since PostgreSQL 14 libpq appends every message of the query to it, an
  // earlier server error's DETAIL included.
  const std::string message =
      sqlstate != nullptr ? ValueFreeError(raw)
      : connected()       ? "libpq failed the statement (message withheld: it may quote a value)"
                          : "the connection to the server was lost";
  const Code code = PQstatus(conn_.get()) == CONNECTION_OK ? CodeOf(sqlstate) : Code::kUnavailable;
  // Statements are long; their start says which one failed.
  if (what.size() > 72) what = what.substr(0, 72);
  return {code, "postgres: " + std::string(what) + ": " + message};
}

Status PgConn::Exec(const char* sql) {
  if (Status s = Sync(); !s.ok()) return s;
  return Check(PQexec(conn_.get(), sql), sql, nullptr);
}

PgConn::Bound::Bound(std::span<const PgParam> params) {
  for (const PgParam& p : params) {
    types.push_back(p.type_);
    values.push_back(p.value_ ? p.value_->data() : nullptr);
    lengths.push_back(p.value_ ? static_cast<int>(p.value_->size()) : 0);
    formats.push_back(p.format_);
  }
}

Status PgConn::SendStatement(const char* sql, std::span<const PgParam> params, Kind kind) {
  if (PQpipelineStatus(conn_.get()) == PQ_PIPELINE_OFF && PQenterPipelineMode(conn_.get()) != 1) {
    return {Code::kUnavailable, "postgres: cannot enter pipeline mode"};
  }
  const PgConn::Bound b(params);
  const int n = static_cast<int>(params.size());
  int sent = 0;
  if (n == 0) {
    sent = PQsendQueryParams(conn_.get(), sql, 0, nullptr, nullptr, nullptr, nullptr, 1);
  } else {
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
      std::string name = "s" + std::to_string(next_name_++);
      if (PQsendPrepare(conn_.get(), name.c_str(), sql, n, b.types.data()) != 1) {
        return {Code::kUnavailable, "postgres: cannot send a statement"};
      }
      sent_.push_back({sql, Kind::kWrite});
      prepared_in_pipeline_.push_back(sql);
      it = prepared_.emplace(sql, std::move(name)).first;
    }
    sent = PQsendQueryPrepared(conn_.get(), it->second.c_str(), n, b.values.data(),
                               b.lengths.data(), b.formats.data(), 1);
  }
  if (sent != 1) return {Code::kUnavailable, "postgres: cannot send a statement"};
  sent_.push_back({sql, kind});
  return Status::Ok();
}

Status PgConn::Send(const char* sql, std::initializer_list<PgParam> params) {
  return SendStatement(sql, std::span(params.begin(), params.size()));
}

Status PgConn::SendCommand(const char* sql) { return SendStatement(sql, {}); }

Status PgConn::SendOwnRow(const char* sql, std::initializer_list<PgParam> params) {
  return SendStatement(sql, std::span(params.begin(), params.size()), Kind::kOwnRow);
}

Status PgConn::SendForResult(const char* sql, std::initializer_list<PgParam> params) {
  return SendStatement(sql, std::span(params.begin(), params.size()), Kind::kKeep);
}

Status PgConn::Sync() { return SyncResults(nullptr); }

Status PgConn::SyncResults(std::vector<PgResult>* results) {
  if (results != nullptr) results->clear();
  if (PQpipelineStatus(conn_.get()) == PQ_PIPELINE_OFF) return Status::Ok();
  Status first = Status::Ok();
  if (PQpipelineSync(conn_.get()) != 1) {
    first = {Code::kUnavailable, "postgres: the connection to the server was lost"};
  }
  // One result per statement, each followed by a null; then the sync's own.
  for (const Sent& sent : sent_) {
    PGresult* result = PQgetResult(conn_.get());
    if (result == nullptr) break;  // The connection failed: nothing more will come.
    if (PQresultStatus(result) == PGRES_PIPELINE_ABORTED || !first.ok()) {
      PQclear(result);
    } else {
      PgResult kept;
      first = Check(result, sent.sql, &kept);
      if (first.ok() && sent.kind == Kind::kKeep && results != nullptr) {
        results->push_back(std::move(kept));
      }
      if (sent.kind == Kind::kOwnRow &&
          (first.code() == Code::kAlreadyExists || first.code() == Code::kInvalidArgument)) {
        first = {Code::kInternal, first.message()};
      }
    }
    while (PGresult* more = PQgetResult(conn_.get())) PQclear(more);
  }
  sent_.clear();
  for (PGresult* r = PQgetResult(conn_.get()); r != nullptr; r = PQgetResult(conn_.get())) {
    const bool synced = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
    PQclear(r);
    if (synced) break;
  }
  if (PQexitPipelineMode(conn_.get()) != 1 && first.ok()) {
    first = {Code::kUnavailable, "postgres: cannot leave pipeline mode"};
  }
  if (!first.ok()) {
    // Statements prepared in a failed pipeline may not exist on the server.
    for (const char* sql : prepared_in_pipeline_) prepared_.erase(sql);
  }
  prepared_in_pipeline_.clear();
  if (!connected()) first = {Code::kUnavailable, "postgres: the connection to the server was lost"};
  return first;
}

Status PgConn::Run(const char* name, const std::string& sql, std::span<const PgParam> params,
                   PgResult* out) {
  const Bound b(params);
  const int n = static_cast<int>(params.size());
  if (name == nullptr) {
    return Check(PQexecParams(conn_.get(), sql.c_str(), n, b.types.data(), b.values.data(),
                              b.lengths.data(), b.formats.data(), 1),
                 sql, out);
  }
  return Check(
      PQexecPrepared(conn_.get(), name, n, b.values.data(), b.lengths.data(), b.formats.data(), 1),
      sql, out);
}

Status PgConn::Query(const char* sql, std::initializer_list<PgParam> params, PgResult* out) {
  if (PQpipelineStatus(conn_.get()) != PQ_PIPELINE_OFF) {
    // Behind what was sent: in the same round trip.
    if (Status s = SendStatement(sql, std::span(params.begin(), params.size()), Kind::kKeep);
        !s.ok()) {
      (void)Sync();
      return s;
    }
    std::vector<PgResult> results;
    if (Status s = SyncResults(&results); !s.ok()) return s;
    if (out != nullptr && !results.empty()) *out = std::move(results.back());
    return Status::Ok();
  }
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(next_name_++);
    // Parameter types come from the first use: each literal is always bound the same way.
    std::vector<Oid> types;
    for (const PgParam& p : params) types.push_back(p.type_);
    if (Status s = Check(
            PQprepare(conn_.get(), name.c_str(), sql, static_cast<int>(types.size()), types.data()),
            sql, nullptr);
        !s.ok()) {
      return s;
    }
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  return Run(it->second.c_str(), sql, std::span(params.begin(), params.size()), out);
}

Status PgConn::QueryOnce(const std::string& sql, std::span<const PgParam> params, PgResult* out) {
  if (Status s = Sync(); !s.ok()) return s;
  return Run(nullptr, sql, params, out);
}

Status PgConn::Commit() {
  // COMMIT goes behind what is outstanding, in the same round trip. The server turns the
  // COMMIT of an aborted transaction into ROLLBACK without an error: its tag says which.
  Status aborted(Code::kInternal, "postgres: a failed statement aborted the transaction");
  if (sent_.empty() && PQtransactionStatus(conn_.get()) == PQTRANS_INERROR) {
    Rollback();
    return aborted;
  }
  std::vector<PgResult> results;
  Status s = SendStatement("COMMIT", {}, Kind::kKeep);
  if (s.ok()) s = SyncResults(&results);
  if (s.ok() && (results.empty() ||
                 std::string_view(PQcmdStatus(results.back().result_.get())) != "COMMIT")) {
    s = aborted;
  }
  if (!s.ok()) Rollback();
  return s;
}

void PgConn::Rollback() {
  (void)Sync();  // What was sent is rolled back with the rest.
  if (PQstatus(conn_.get()) != CONNECTION_OK) return;
  const PGTransactionStatusType t = PQtransactionStatus(conn_.get());
  if (t == PQTRANS_INTRANS || t == PQTRANS_INERROR) PQclear(PQexec(conn_.get(), "ROLLBACK"));
}

Status PgConn::TakeNotifications(std::string_view channel, std::vector<std::string>* payloads) {
  if (PQconsumeInput(conn_.get()) == 0 || !connected()) {
    return {Code::kUnavailable,
            "postgres: listening session lost: " + OneLine(PQerrorMessage(conn_.get()))};
  }
  while (PGnotify* n = PQnotifies(conn_.get())) {
    if (channel == n->relname) payloads->emplace_back(n->extra);
    PQfreemem(n);
  }
  return Status::Ok();
}

Status PgConn::EnsureConnected() {
  // Reads, without blocking, what the server sent while we were idle: one that ended the
  // session (shutdown, pg_terminate_backend) closed the socket, and the loss shows now rather
  // than in the middle of the next transaction.
  if (connected()) (void)PQconsumeInput(conn_.get());
  if (connected()) return Status::Ok();
  // A new session: statements prepared (or sent) on the old one are gone.
  prepared_.clear();
  sent_.clear();
  prepared_in_pipeline_.clear();
  PQreset(conn_.get());
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    return {Code::kUnavailable,
            "postgres: cannot reconnect: " + OneLine(PQerrorMessage(conn_.get()))};
  }
  ++sessions_;
  return setup_ != nullptr ? Exec(setup_) : Status::Ok();
}

}  // namespace infoflyt
