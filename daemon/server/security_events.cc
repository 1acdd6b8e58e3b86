#include "server/security_events.h"

#include "base/clock.h"
#include "base/log.h"

namespace infoflyt {
namespace {

// "ipv4:10.0.0.7:50312" -> "ipv4:10.0.0.7": a reconnecting peer is the same peer.
std::string HostOf(const std::string& peer) {
  const size_t colon = peer.rfind(':');
  return colon == std::string::npos || colon < 5 ? peer : peer.substr(0, colon);
}

}  // namespace

void SecurityEvents::Report(const SecurityEvent& e) {
  metrics_->auth_failures.Add({{"reason", e.reason}}).Increment();
  const std::string who =
      e.certificate.fingerprint.empty() ? HostOf(e.peer) : e.certificate.fingerprint;
  uint64_t suppressed = 0;
  if (!lines_.Admit(e.event + '\0' + e.rpc + '\0' + e.reason + '\0' + who, NowMicros(),
                    &suppressed)) {
    return;
  }
  std::vector<std::pair<std::string, std::string>> fields = {
      {"event", e.event}, {"reason", e.reason}, {"rpc", e.rpc}};
  if (!e.peer.empty()) fields.emplace_back("peer", e.peer);
  if (!e.certificate.fingerprint.empty()) {
    fields.insert(fields.end(), {{"subject", e.certificate.subject},
                                 {"issuer", e.certificate.issuer},
                                 {"fingerprint", e.certificate.fingerprint}});
  }
  if (!e.certificate.spiffe_id.empty()) fields.emplace_back("spiffe_id", e.certificate.spiffe_id);
  fields.emplace_back("detail", e.detail);
  if (suppressed > 0) fields.emplace_back("suppressed", std::to_string(suppressed));
  LogFields(LogLevel::kWarning, fields);
}

bool SecurityEvents::AdmitDenyRecord(const std::string& key, uint64_t* suppressed) {
  return deny_records_.Admit(key, NowMicros(), suppressed);
}

void SecurityEvents::RetractDenyRecord(const std::string& key, uint64_t suppressed) {
  deny_records_.Retract(key, suppressed);
}

}  // namespace infoflyt
