// Tells a daemon of what every daemon sharing its PostgreSQL database commits, so a subscriber
// connected to one daemon is woken when a message for it is posted through another, and each
// daemon's escalation timer learns the deadlines the others store.
//
// PgStore sends, in each transaction that stores deliveries, a NOTIFY on kCommitChannel naming
// the recipients and the earliest acknowledgement deadline stored; PostgreSQL delivers it only
// if and when that transaction commits. PgListener holds a session of its own that LISTENs, on
// a thread of its own that sleeps on the session's socket until a notification (or its stop)
// arrives. It sees its own daemon's notifications too: waking a stream twice is harmless.
//
// Notifications sent while no session listens are lost. So after the session is lost the
// listener reconnects by itself (backing off while the server is away), and once listening
// again it reports one CommitNotice with `all` set: wake everything, re-read everything.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/status.h"
#include "store/pg_conn.h"

namespace infoflyt {

inline constexpr const char* kCommitChannel = "infoflyt_deliveries";

// What one committed transaction (or a reconnect) tells the daemons.
struct CommitNotice {
  bool all = false;                          // Anything may have been missed.
  std::vector<std::string> parties;          // Recipients of new deliveries (party keys).
  std::optional<int64_t> earliest_deadline;  // Earliest acknowledgement deadline stored.
};

// The NOTIFY payloads for `notice`: space-separated tokens, "@<micros>" a deadline and anything
// else a party key. Each payload stays under PostgreSQL's limit of 8000 bytes; a notice too big
// for one is split, each part naming some of the parties.
std::vector<std::string> EncodeCommitNotice(const CommitNotice& notice);
// The inverse of one payload; INVALID_ARGUMENT if a token is malformed.
Status DecodeCommitNotice(std::string_view payload, CommitNotice* out);

class PgListener {
 public:
  // Called on the listener's thread for every notification and after every reconnect; must
  // not block for long.
  using OnNotice = std::function<void(const CommitNotice&)>;

  // Connects (as PgConn::Connect), LISTENs and starts the thread. UNAVAILABLE if the first
  // connection fails: later losses are handled by reconnecting.
  static Status Start(const std::string& conninfo, const std::string& password, OnNotice on_notice,
                      std::unique_ptr<PgListener>* out);
  // Stops the thread; no callback runs after this returns.
  ~PgListener();
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

 private:
  PgListener(std::string conninfo, std::string password, OnNotice on_notice);
  void Run();
  // Waits up to `millis` for the stop signal; true if it came.
  bool WaitForStop(int millis) const;

  const std::string conninfo_;
  const std::string password_;
  const OnNotice on_notice_;
  int stop_fd_ = -1;  // An eventfd, readable once the destructor asks the thread to stop.
  std::unique_ptr<PgConn> session_;  // The thread's, once started.
  std::thread thread_;
};

}  // namespace infoflyt
