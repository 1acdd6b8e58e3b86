// Floods and limits. A flood of connections that never finish their TLS handshake cannot take
// the daemon down for good: with its descriptor limit set low, more stalled handshakes than that
// limit make gRPC's accept fail (which its listener never recovers from, grpc/grpc#16058); the
// daemon's check of its own port sees it, /healthz fails naming it, and the daemon rebuilds its
// gRPC server, so that legitimate clients are served again within seconds of the flood's end. The
// ops port cuts idle connections, and clients that ping too often are sent away.
#include "integration/flood.h"

#include <arpa/inet.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <iostream>
#include <sstream>
#include <thread>
#include <vector>

#include "integration/pki_actions.h"
#include "integration/test_daemon.h"
#include "test_util.h"

namespace infoflyt::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr rlim_t kDaemonOpenFiles = 160;
constexpr int kStalledConnections = 240;  // More than the daemon's descriptor limit.

// Waits (Eventually) until `done` or `limit` passes; returns how long it took.
template <typename Done>
milliseconds WaitUntil(Done done, seconds limit) {
  const auto start = steady_clock::now();
  Eventually(done, limit);
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
}

class FloodTest : public ::testing::Test {
 protected:
  void StartWith(const std::string& server_config) {
    daemon_.set_open_files_limit(kDaemonOpenFiles);
    daemon_.set_server_config("handshake_timeout = \"2s\"\nself_probe_interval = \"1s\"\n" +
                              server_config);
    ASSERT_TRUE(daemon_.Start()) << daemon_.Log();
    const grpc::Status before = PostAsNewClient(daemon_, "correctional-oslo-fengsel", "before");
    ASSERT_TRUE(before.ok()) << before.error_message() << "\n" << daemon_.Log();
    EXPECT_NE(daemon_.Log().find("open files limit 160 (hard 160): below server.max_connections"),
              std::string::npos)
        << daemon_.Log();
  }
  // Floods the port until gRPC's accept has failed for want of descriptors.
  void Wedge(Flood* flood) {
    ASSERT_EQ(flood->size(), static_cast<size_t>(kStalledConnections));
    const milliseconds took =
        WaitUntil([&] { return daemon_.Log().find("Too many open files") != std::string::npos; },
                  seconds(10));
    ASSERT_LT(took, seconds(10)) << "the flood did not exhaust the daemon's descriptors\n"
                                 << daemon_.Log();
  }

  TestDaemon daemon_;
};

TEST_F(FloodTest, LegitimateClientsAreServedAgainSoonAfterAFloodBeyondTheDescriptorLimit) {
  StartWith("");
  Flood flood(daemon_.address(), kStalledConnections);
  Wedge(&flood);
  flood.End();
  const auto ended = steady_clock::now();
  int i = 0;
  const milliseconds took = WaitUntil(
      [&] {
        return PostAsNewClient(daemon_, "correctional-oslo-fengsel", "after-" + std::to_string(i++))
            .ok();
      },
      seconds(30));
  std::cerr << "posts succeed again "
            << std::chrono::duration_cast<milliseconds>(steady_clock::now() - ended).count()
            << " ms after the flood ended (self_probe_interval 1 s, handshake_timeout 2 s)\n";
  // Documented: within two checks (interval plus timeout each) and the rebuild.
  EXPECT_LT(took, seconds(10)) << daemon_.Log();
  EXPECT_NE(daemon_.Log().find("grpc: rebuilding the gRPC server"), std::string::npos)
      << daemon_.Log();
  EXPECT_GE(MetricValue(daemon_.Metrics(), "infoflyt_self_probe_failures_total"), 2);
  int status = 0;
  WaitUntil([&] { return daemon_.Healthz(&status) == "ok\n"; }, seconds(5));
  EXPECT_EQ(status, 200);
}

TEST_F(FloodTest, AWedgedListenerFailsHealthzNamingIt) {
  StartWith("restart_wedged_listener = false\n");
  Flood flood(daemon_.address(), kStalledConnections);
  Wedge(&flood);
  flood.End();
  std::string body;
  int status = 0;
  WaitUntil(
      [&] {
        body = daemon_.Healthz(&status);
        return status == 503;
      },
      seconds(15));
  EXPECT_EQ(status, 503) << body << daemon_.Log();
  EXPECT_NE(body.find("failing grpc: the gRPC port " + daemon_.address() +
                      " does not complete TLS handshakes"),
            std::string::npos)
      << body;
  // Not rebuilt: still refused (the check is what a systemd watchdog acts on).
  EXPECT_FALSE(PostAsNewClient(daemon_, "correctional-oslo-fengsel", "wedged").ok());
}

// Stands in for systemd's notification socket ($NOTIFY_SOCKET): what the daemon tells systemd,
// one datagram per notification.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path)
      : path_(std::move(path)), fd_(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path_.copy(address.sun_path, sizeof address.sun_path - 1);
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~NotifySocket() {
    close(fd_);
    unlink(path_.c_str());
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  bool bound() const { return bound_; }
  // Each line of every notification received within `wait`, e.g. "READY=1", "WATCHDOG=1".
  std::vector<std::string> Receive(milliseconds wait) const {
    std::vector<std::string> lines;
    const auto until = steady_clock::now() + wait;
    for (auto now = steady_clock::now(); now < until; now = steady_clock::now()) {
      pollfd p{fd_, POLLIN, 0};
      const auto left = std::chrono::duration_cast<milliseconds>(until - now);
      if (poll(&p, 1, static_cast<int>(left.count()) + 1) <= 0) continue;
      char buf[4096];
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      std::istringstream message(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0));
      for (std::string line; std::getline(message, line);) lines.push_back(line);
    }
    return lines;
  }

 private:
  std::string path_;
  int fd_;
  bool bound_ = false;
};

// Under systemd (Type=notify, WatchdogSec=), the daemon says it is ready once it serves and
// pings the watchdog after each check of its own port that passes, so that a wedged listener
// (left alone here) stops the pings and systemd would restart the daemon.
TEST_F(FloodTest, TheWatchdogIsPingedOnlyWhileThePortCompletesHandshakes) {
  const NotifySocket systemd(StateDir(daemon_) + "/notify.sock");
  ASSERT_TRUE(systemd.bound());
  daemon_.add_environment("NOTIFY_SOCKET=" + StateDir(daemon_) + "/notify.sock");
  StartWith("restart_wedged_listener = false\n");
  const std::vector<std::string> serving = systemd.Receive(seconds(3));
  EXPECT_EQ(std::ranges::count(serving, "READY=1"), 1);
  EXPECT_GE(std::ranges::count(serving, "WATCHDOG=1"), 2);  // One check a second.
  Flood flood(daemon_.address(), kStalledConnections);
  Wedge(&flood);
  int status = 0;
  WaitUntil(
      [&] {
        daemon_.Healthz(&status);
        return status == 503;
      },
      seconds(15));
  ASSERT_EQ(status, 503) << daemon_.Log();
  systemd.Receive(milliseconds(0));  // What was sent before the check failed.
  // Checks fail from now on (each a reason to ping, were pings unconditional), unless gRPC's
  // listener comes back by itself once the stalled handshakes have timed out, which it now and
  // then does: a ping is right only after a check passed again, which the daemon logs.
  const auto pings = std::ranges::count(systemd.Receive(seconds(4)), "WATCHDOG=1");
  if (pings > 0) {
    EXPECT_NE(daemon_.Log().find("grpc: the port completes TLS handshakes again"),
              std::string::npos)
        << pings << " watchdog pings while the port's checks failed\n"
        << daemon_.Log();
  }
}

// Whether the server closed `fd` (EOF or reset) within `limit`.
bool ClosedByServer(int fd, milliseconds limit) {
  timeval tv{static_cast<time_t>(limit.count() / 1000),
             static_cast<suseconds_t>(limit.count() % 1000 * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char byte = 0;
  const ssize_t n = recv(fd, &byte, 1, 0);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

// The ops port: at most 64 connections at once (more are closed at once), and each gets 5 s to
// send its request, so idle connections cannot keep /healthz from answering.
TEST(OpsPortTest, IdleConnectionsAreCutAndHealthzAnswersAgain) {
  TestDaemon daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  const std::string http = daemon.http_address();
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(std::stoi(http.substr(http.rfind(':') + 1))));
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  auto open_one = [&] {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
    return fd;
  };
  std::vector<int> idle;
  for (int i = 0; i < 64; ++i) idle.push_back(open_one());
  std::this_thread::sleep_for(milliseconds(300));  // All accepted.
  const int extra = open_one();
  EXPECT_TRUE(ClosedByServer(extra, milliseconds(2000)));
  close(extra);
  // Within the 5 s each gets, plus a little: the idle ones are cut and /healthz answers.
  int status = 0;
  const milliseconds took =
      WaitUntil([&] { return daemon.Healthz(&status) == "ok\n" && status == 200; }, seconds(10));
  EXPECT_LT(took, seconds(8));
  EXPECT_GE(took, seconds(3));
  for (int fd : idle) {
    EXPECT_TRUE(ClosedByServer(fd, milliseconds(100)));
    close(fd);
  }
}

// HTTP/2 keepalive is enforced: a client pinging every 200 ms is sent away (GOAWAY
// too_many_pings) and its stream ends, rather than keeping the daemon busy answering pings.
TEST(KeepaliveTest, AClientPingingTooOftenIsSentAway) {
  TestDaemon daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  const std::string party = Pki().dir + "/parties/police-oslo";
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = ReadFile(Pki().dir + "/ca.pem");
  tls.pem_cert_chain = ReadFile(party + ".pem");
  tls.pem_private_key = ReadFile(party + ".key");
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 200);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  auto channel = grpc::CreateCustomChannel(daemon.address(), grpc::SslCredentials(tls), args);
  auto stub = v1::Exchange::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(20));
  auto stream = stub->Subscribe(&context, v1::SubscribeRequest());
  v1::Delivery delivery;
  const auto start = steady_clock::now();
  while (stream->Read(&delivery)) {
  }
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_LT(steady_clock::now() - start, seconds(10));  // Not the deadline.
}

}  // namespace
}  // namespace infoflyt::testing
