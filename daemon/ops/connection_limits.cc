#include "ops/connection_limits.h"

#include "base/host_port.h"

namespace infoflyt {

Status NftConnectionLimits(const Config& config, std::string* ruleset) {
  HostPort listen;
  if (Status s = ParseHostPort(config.listen, "server.listen", &listen); !s.ok()) return s;
  if (listen.port == 0) {
    return {Code::kInvalidArgument,
            "server.listen: port 0 (any) cannot be capped; name the port the daemon listens on"};
  }
  const int port = listen.port;
  const std::string per_source = std::to_string(config.max_connections_per_source);
  const std::string total = std::to_string(config.max_connections);
  // nft takes a count only as a literal, so the numbers are written into the rules.
  *ruleset =
      "# infoflytd's connection caps: made by `infoflytd --print-connection-limits`.\n"
      "table inet infoflyt\n"
      "delete table inet infoflyt\n"
      "table inet infoflyt {\n"
      "  counter refused_per_source {}\n"
      "  counter refused_total {}\n"
      "  set per_source_v4 { type ipv4_addr; flags dynamic; }\n"
      "  set per_source_v6 { type ipv6_addr; flags dynamic; }\n"
      "  chain input {\n"
      // Only refuses: what the host's own firewall drops stays dropped.
      "    type filter hook input priority filter; policy accept;\n"
      "    tcp dport != " +
      std::to_string(port) +
      " accept\n"
      "    ct state != new accept\n"
      "    fib saddr type local accept\n"
      "    add @per_source_v4 { ip saddr ct count over " +
      per_source +
      " } counter name refused_per_source reject with tcp reset\n"
      "    add @per_source_v6 { ip6 saddr and ffff:ffff:ffff:ffff:: ct count over " +
      per_source +
      " } counter name refused_per_source reject with tcp reset\n"
      "    ct count over " +
      total +
      " counter name refused_total reject with tcp reset\n"
      "  }\n"
      "}\n";
  return Status::Ok();
}

}  // namespace infoflyt
