// Connections that each send the first bytes of a TLS record (a ClientHello's header) and then
// nothing, as a slowloris attacker's would: for the flood and connection-cap tests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

namespace infoflyt::testing {

struct FloodFrom {
  std::string source;  // Bound before connecting; "" lets the kernel choose.
  int netns_fd = -1;   // A network namespace to open the sockets in; -1: this thread's.
};

class Flood {
 public:
  // Opens `connections` sockets to `host:port` ("127.0.0.1:7443"); size() counts those that
  // connected, which are kept open until End() or destruction.
  Flood(const std::string& address, int connections, const FloodFrom& from = {}) {
    // A socket belongs to the namespace of the thread that made it, so another namespace's
    // sockets are made on a thread of their own that enters it.
    std::thread([&] {
      if (from.netns_fd >= 0 && setns(from.netns_fd, CLONE_NEWNET) != 0) return;
      Open(address, connections, from.source);
    }).join();
  }
  ~Flood() { End(); }
  Flood(const Flood&) = delete;
  Flood& operator=(const Flood&) = delete;

  void End() {
    for (int fd : fds_) close(fd);
    fds_.clear();
  }
  size_t size() const { return fds_.size(); }

 private:
  void Open(const std::string& address, int connections, const std::string& source) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1))));
    inet_pton(AF_INET, address.substr(0, address.rfind(':')).c_str(), &to.sin_addr);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    if (!source.empty()) inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    const char header[] = {0x16, 0x03, 0x01, 0x02, 0x00};  // Handshake, 512 bytes to follow.
    for (int i = 0; i < connections; ++i) {
      const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) break;
      if ((!source.empty() && bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) ||
          connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        close(fd);
        continue;
      }
      send(fd, header, sizeof header, MSG_NOSIGNAL);
      fds_.push_back(fd);
    }
  }

  std::vector<int> fds_;
};

}  // namespace infoflyt::testing
