#include "server/metrics.h"

#include <limits>

namespace infoflyt {
namespace {

prometheus::Counter& Single(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
}

prometheus::Gauge& Unknown(prometheus::Registry& r, const char* name, const char* help) {
  prometheus::Gauge& g = prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
  g.Set(std::numeric_limits<double>::quiet_NaN());
  return g;
}

}  // namespace

Metrics::Metrics()
    : registry(std::make_shared<prometheus::Registry>()),
      posts(prometheus::BuildCounter()
                .Name("infoflyt_posts_total")
                .Help("Post calls by result")
                .Register(*registry)),
      posts_accepted(posts.Add({{"result", "accepted"}})),
      posts_duplicate(posts.Add({{"result", "duplicate"}})),
      posts_rejected(posts.Add({{"result", "rejected"}})),
      posts_failed(posts.Add({{"result", "failed"}})),
      deliveries_streamed(Single(*registry, "infoflyt_deliveries_streamed_total",
                                 "Deliveries written to subscription streams")),
      unreadable_deliveries(Single(*registry, "infoflyt_unreadable_deliveries_total",
                                   "Deliveries streamed without their body, which could not be "
                                   "read (changed, or sealed under a missing data key)")),
      erased_messages(Single(*registry, "infoflyt_retention_erased_messages_total",
                             "Messages whose stored bodies the retention rules erased")),
      erased_flags(Single(*registry, "infoflyt_retention_erased_flags_total",
                          "Ended flags whose person and reason the retention rules erased")),
      changed_records_served(
          Single(*registry, "infoflyt_changed_records_served_total",
                 "Disclosure records served by audit queries marked as changed since they were "
                 "logged (they no longer hash to their leaf)")),
      acks(Single(*registry, "infoflyt_acks_total", "Deliveries newly acknowledged")),
      auth_failures(prometheus::BuildCounter()
                        .Name("infoflyt_auth_failures_total")
                        .Help("Calls refused and streams ended for who the peer is, by reason")
                        .Register(*registry)),
      deny_records(Single(*registry, "infoflyt_deny_records_total",
                          "Calls refused to registered parties, recorded in the disclosure log")),
      escalations(Single(*registry, "infoflyt_escalations_total",
                         "Municipal notices escalated for a missed acknowledgement deadline")),
      self_probe_failures(Single(*registry, "infoflyt_self_probe_failures_total",
                                 "Checks of the daemon's own gRPC port that got no TLS "
                                 "handshake")),
      subscribers(prometheus::BuildGauge()
                      .Name("infoflyt_subscribers")
                      .Help("Open subscription streams")
                      .Register(*registry)
                      .Add({})),
      posts_in_flight(prometheus::BuildGauge()
                          .Name("infoflyt_posts_in_flight")
                          .Help("Posts received and not yet answered")
                          .Register(*registry)
                          .Add({})),
      tls_server_certificate_expiry(Unknown(*registry,
                                            "infoflyt_tls_server_certificate_expiry_seconds",
                                            "Seconds until the server certificate's notAfter")),
      tls_client_ca_expiry(Unknown(*registry, "infoflyt_tls_client_ca_expiry_seconds",
                                   "Seconds until the soonest notAfter of the client CA bundle")),
      tls_client_ca_certificate_expiry(
          prometheus::BuildGauge()
              .Name("infoflyt_tls_client_ca_certificate_expiry_seconds")
              .Help("Seconds until the notAfter of each CA of the client CA bundle, by subject")
              .Register(*registry)),
      tls_crl_next_update(Unknown(*registry, "infoflyt_tls_crl_next_update_seconds",
                                  "Seconds until the soonest nextUpdate of the CRLs")),
      log_records(prometheus::BuildGauge()
                      .Name("infoflyt_log_records")
                      .Help("Records in the disclosure log (its Merkle tree size)")
                      .Register(*registry)
                      .Add({})),
      log_scrub_changed(Unknown(*registry, "infoflyt_log_scrub_changed_records",
                                "Disclosure records the last scrub found changed since they were "
                                "logged (0 when the stored log is as signed)")),
      store_writes_failing(prometheus::BuildGauge()
                               .Name("infoflyt_store_writes_failing")
                               .Help("1 while the store's transactions fail (nothing is receipted)")
                               .Register(*registry)
                               .Add({})),
      commit_batch_size(
          prometheus::BuildHistogram()
              .Name("infoflyt_commit_batch_size")
              .Help("Write operations per store transaction (group commit)")
              .Register(*registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128, 256})),
      commit_seconds(prometheus::BuildHistogram()
                         .Name("infoflyt_commit_seconds")
                         .Help("Time of one store transaction (group commit), fsync included")
                         .Register(*registry)
                         .Add({}, prometheus::Histogram::BucketBoundaries{
                                      0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064,
                                      0.128, 0.256, 1})) {}

}  // namespace infoflyt
