// The daemon's Prometheus metrics (prometheus-cpp core). Labels never carry personal data.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>

namespace infoflyt {

struct Metrics {
  Metrics();

  std::shared_ptr<prometheus::Registry> registry;
  prometheus::Family<prometheus::Counter>& posts;  // label: result
  prometheus::Counter& posts_accepted;
  prometheus::Counter& posts_duplicate;
  prometheus::Counter& posts_rejected;
  prometheus::Counter& posts_failed;
  prometheus::Counter& deliveries_streamed;
  prometheus::Counter& unreadable_deliveries;   // Streamed marked unreadable (no body).
  prometheus::Counter& erased_messages;         // Messages whose bodies retention erased.
  prometheus::Counter& erased_flags;            // Flags whose person and reason retention erased.
  prometheus::Counter& changed_records_served;  // Records served marked changed since logged.
  prometheus::Counter& acks;
  // Calls refused and streams ended for who the peer is; label: reason (security_events.h).
  prometheus::Family<prometheus::Counter>& auth_failures;
  prometheus::Counter& deny_records;  // Refused calls recorded in the disclosure log.
  prometheus::Counter& escalations;
  prometheus::Counter& self_probe_failures;  // Checks of the gRPC port that failed.
  prometheus::Gauge& subscribers;
  prometheus::Gauge& posts_in_flight;  // Received and not yet answered.
  // Seconds until the TLS trust runs out (negative once it has; NaN if unknown).
  prometheus::Gauge& tls_server_certificate_expiry;
  prometheus::Gauge& tls_client_ca_expiry;  // The soonest CA of the bundle.
  prometheus::Family<prometheus::Gauge>& tls_client_ca_certificate_expiry;  // label: subject
  prometheus::Gauge& tls_crl_next_update;  // The soonest CRL; NaN without tls.crl_directory.
  prometheus::Gauge& log_records;
  prometheus::Gauge& log_scrub_changed;     // Records the last scrub found changed (NaN: none yet).
  prometheus::Gauge& store_writes_failing;  // 1 while the store's transactions fail.
  prometheus::Histogram& commit_batch_size;
  prometheus::Histogram& commit_seconds;  // One store transaction, from its start to durable.
};

}  // namespace infoflyt
