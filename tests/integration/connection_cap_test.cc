// Connection caps on the gRPC port, enforced by the kernel with the rules the daemon prints
// (`infoflytd --print-connection-limits`): flooding from one address, or from many, fills at
// most the caps, which sit well below the daemon's descriptor limit, so gRPC's accept never
// meets EMFILE and the daemon keeps serving (gRPC 1.51 cannot cap connections itself).
//
// The test process runs in a network namespace of its own (so the rules touch nothing else),
// with the attacker in a second one behind a veth pair: 10.77.0.1 is the daemon's host,
// 10.77.0.2-9 are attacking hosts. Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN), iproute2 and nft.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "integration/flood.h"
#include "integration/pki_actions.h"
#include "integration/test_daemon.h"
#include "test_util.h"

namespace infoflyt::testing {
namespace {

using std::chrono::seconds;

constexpr rlim_t kDaemonOpenFiles = 160;
constexpr int kPerSource = 40;
constexpr int kTotal = 100;  // Well below the descriptor limit, with room for the daemon's own.
constexpr int kAttackers = 8;
constexpr char kServerHost[] = "10.77.0.1";

// The attacker's network namespace, held open by a descriptor.
int& AttackerNetns() {
  static int fd = -1;
  return fd;
}

// Makes the namespaces once, before any test and before any thread exists.
class Namespaces : public ::testing::Environment {
 public:
  void SetUp() override {
    if (unshare(CLONE_NEWNET) != 0) {
      FAIL() << "cannot make a network namespace (needs root): " << std::strerror(errno);
    }
    std::thread([] {
      if (unshare(CLONE_NEWNET) == 0) AttackerNetns() = open("/proc/thread-self/ns/net", O_RDONLY);
    }).join();
    ASSERT_GE(AttackerNetns(), 0) << "cannot make the attacker's namespace";
    const std::string attacker =
        "/proc/" + std::to_string(getpid()) + "/fd/" + std::to_string(AttackerNetns());
    std::string script =
        "set -e; ip link set lo up; ip link add cap0 type veth peer name cap1 netns " + attacker +
        "; ip addr add " + kServerHost +
        "/24 dev cap0; ip link set cap0 up; nsenter --net=" + attacker +
        " sh -ec 'ip link set lo up; ip link set cap1 up";
    for (int i = 0; i < kAttackers; ++i) {
      script += "; ip addr add 10.77.0." + std::to_string(2 + i) + "/24 dev cap1";
    }
    script += "'";
    std::string out;
    ASSERT_EQ(RunCommand("(" + script + ") 2>&1", &out), 0) << out;
  }
};

std::string Attacker(int i) { return "10.77.0." + std::to_string(2 + i); }

class ConnectionCapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_.set_listen_host("0.0.0.0");
    daemon_.set_open_files_limit(kDaemonOpenFiles);
    daemon_.set_server_config("max_connections = " + std::to_string(kTotal) +
                              "\nmax_connections_per_source = " + std::to_string(kPerSource) +
                              "\nself_probe_interval = \"1s\"\n");
    ASSERT_TRUE(daemon_.Start()) << daemon_.Log();
    const CliResult rules = daemon_.RunOnce("--print-connection-limits");
    ASSERT_EQ(rules.exit_code, 0) << rules.out;
    const std::string file = StateDir(daemon_) + "/limits.nft";
    std::ofstream(file) << rules.out;
    std::string out;
    ASSERT_EQ(RunCommand("nft -f " + file + " 2>&1", &out), 0) << out << rules.out;
    port_ = daemon_.address().substr(daemon_.address().rfind(':') + 1);
  }
  void TearDown() override { std::system("nft delete table inet infoflyt 2>/dev/null"); }

  std::string Target() const { return std::string(kServerHost) + ":" + port_; }
  int64_t Refused(const std::string& counter) const {
    return std::stoll(CommandOutput("nft -j list counter inet infoflyt " + counter +
                                    " | grep -o '\"packets\": *[0-9]*' | grep -o '[0-9]*$'"));
  }
  // The daemon serves: /healthz is ok (its check of its own port passes) and a post succeeds.
  void ExpectServing(const std::string& key) {
    int status = 0;
    EXPECT_EQ(daemon_.Healthz(&status), "ok\n");
    EXPECT_EQ(status, 200);
    const grpc::Status post = PostAsNewClient(daemon_, "correctional-oslo-fengsel", key);
    EXPECT_TRUE(post.ok()) << post.error_message() << daemon_.Log();
  }
  void ExpectNeverOutOfDescriptors() {
    EXPECT_EQ(daemon_.Log().find("Too many open files"), std::string::npos) << daemon_.Log();
    EXPECT_EQ(daemon_.Log().find("rebuilding the gRPC server"), std::string::npos);
  }

  TestDaemon daemon_;
  std::string port_;
};

TEST_F(ConnectionCapTest, OneAddressGetsAtMostItsShareAndOthersStillConnect) {
  Flood flood(Target(), 4 * kPerSource, {Attacker(0), AttackerNetns()});
  EXPECT_EQ(flood.size(), static_cast<size_t>(kPerSource));
  EXPECT_EQ(Refused("refused_per_source"), 3 * kPerSource);
  Flood other(Target(), kPerSource, {Attacker(1), AttackerNetns()});
  EXPECT_EQ(other.size(), static_cast<size_t>(kPerSource));
  std::this_thread::sleep_for(seconds(3));  // Several checks of its own port.
  ExpectServing("during-one-source");
  ExpectNeverOutOfDescriptors();
}

TEST_F(ConnectionCapTest, ManyAddressesTogetherGetAtMostTheTotal) {
  std::vector<std::unique_ptr<Flood>> floods;
  size_t connected = 0;
  for (int i = 0; i < kAttackers; ++i) {
    floods.push_back(std::make_unique<Flood>(Target(), kPerSource - 10,
                                             FloodFrom{Attacker(i), AttackerNetns()}));
    connected += floods.back()->size();
  }
  EXPECT_EQ(connected, static_cast<size_t>(kTotal));
  EXPECT_EQ(Refused("refused_total"), kAttackers * (kPerSource - 10) - kTotal);
  EXPECT_EQ(Refused("refused_per_source"), 0);
  std::this_thread::sleep_for(seconds(3));
  // The host's own connections are not capped: the daemon's check of its own port and this
  // post both get through while the attackers fill the total.
  ExpectServing("during-many-sources");
  ExpectNeverOutOfDescriptors();
  // Once the attackers are gone, their share is free again at once.
  floods.clear();
  EXPECT_TRUE(Eventually(
      [&] {
        return Flood(Target(), 1, {Attacker(0), AttackerNetns()}).size() == 1;
      },
      seconds(5)));
}

}  // namespace
}  // namespace infoflyt::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new infoflyt::testing::Namespaces);  // gtest owns it.
  return RUN_ALL_TESTS();
}
