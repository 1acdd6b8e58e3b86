#include "store/pg_listener.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "base/log.h"

namespace infoflyt {
namespace {

// PostgreSQL refuses payloads of 8000 bytes or more; party keys are short, so this leaves room.
constexpr size_t kMaxPayload = 7900;

// The session's setup: run at connect, so a session never exists without listening.
constexpr const char* kListen = "LISTEN infoflyt_deliveries";

// Reconnection back-off while the server is away.
constexpr int kFirstRetryMillis = 100;
constexpr int kMaxRetryMillis = 2000;

}  // namespace

std::vector<std::string> EncodeCommitNotice(const CommitNotice& notice) {
  std::vector<std::string> payloads;
  std::string head;
  if (notice.all) head = "*";
  if (notice.earliest_deadline) {
    head += (head.empty() ? "@" : " @") + std::to_string(*notice.earliest_deadline);
  }
  std::string payload = head;
  for (const std::string& party : notice.parties) {
    if (!payload.empty() && payload.size() + 1 + party.size() > kMaxPayload) {
      payloads.push_back(std::move(payload));
      payload.clear();
    }
    payload += (payload.empty() ? "" : " ") + party;
  }
  if (!payload.empty()) payloads.push_back(std::move(payload));
  return payloads;
}

Status DecodeCommitNotice(std::string_view payload, CommitNotice* out) {
  CommitNotice notice;
  while (!payload.empty()) {
    const size_t end = std::min(payload.find(' '), payload.size());
    const std::string_view token = payload.substr(0, end);
    payload.remove_prefix(std::min(end + 1, payload.size()));
    if (token.empty()) continue;
    if (token == "*") {
      notice.all = true;
    } else if (token[0] == '@') {
      int64_t deadline = 0;
      const auto [ptr, ec] =
          std::from_chars(token.data() + 1, token.data() + token.size(), deadline);
      if (ec != std::errc() || ptr != token.data() + token.size()) {
        return {Code::kInvalidArgument, "commit notice: bad deadline " + std::string(token)};
      }
      if (!notice.earliest_deadline || deadline < *notice.earliest_deadline) {
        notice.earliest_deadline = deadline;
      }
    } else {
      notice.parties.emplace_back(token);
    }
  }
  *out = std::move(notice);
  return Status::Ok();
}

PgListener::PgListener(std::string conninfo, std::string password, OnNotice on_notice)
    : conninfo_(std::move(conninfo)),
      password_(std::move(password)),
      on_notice_(std::move(on_notice)) {}

Status PgListener::Start(const std::string& conninfo, const std::string& password,
                         OnNotice on_notice, std::unique_ptr<PgListener>* out) {
  std::unique_ptr<PgListener> listener(new PgListener(conninfo, password, std::move(on_notice)));
  listener->stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (listener->stop_fd_ < 0) return {Code::kInternal, "listener: cannot make an eventfd"};
  if (Status s = PgConn::Connect(conninfo, password, kListen, &listener->session_); !s.ok()) {
    return s;
  }
  listener->thread_ = std::thread([l = listener.get()] { l->Run(); });
  *out = std::move(listener);
  return Status::Ok();
}

PgListener::~PgListener() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    (void)!::write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

bool PgListener::WaitForStop(int millis) const {
  pollfd fd{stop_fd_, POLLIN, 0};
  return ::poll(&fd, 1, millis) > 0;
}

void PgListener::Run() {
  int retry_millis = kFirstRetryMillis;
  std::vector<std::string> payloads;
  while (true) {
    if (session_ == nullptr) {
      if (WaitForStop(retry_millis)) return;
      retry_millis = std::min(retry_millis * 2, kMaxRetryMillis);
      if (Status s = PgConn::Connect(conninfo_, password_, kListen, &session_); !s.ok()) {
        session_.reset();
        continue;
      }
      retry_millis = kFirstRetryMillis;
      LogInfo("postgres: listening for commits again");
      CommitNotice all;
      all.all = true;
      on_notice_(all);
    }
    // Sleeps until the server sends something (or the session breaks) or we are stopped.
    pollfd fds[2] = {{session_->socket(), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      LogError("postgres listener: poll failed; stopping");
      return;
    }
    if (fds[1].revents != 0) return;
    if (fds[0].revents == 0) continue;
    payloads.clear();
    if (Status s = session_->TakeNotifications(kCommitChannel, &payloads); !s.ok()) {
      LogWarning(s.message() + "; reconnecting");
      session_.reset();
      continue;
    }
    for (const std::string& payload : payloads) {
      CommitNotice notice;
      if (Status s = DecodeCommitNotice(payload, &notice); !s.ok()) {
        LogWarning("postgres listener: " + s.message());
        notice = CommitNotice{true, {}, std::nullopt};  // Something was committed: wake all.
      }
      on_notice_(notice);
    }
  }
}

}  // namespace infoflyt
