// What the services of both transports (gRPC and the web port) share.
#pragma once

#include <asio/any_io_executor.hpp>
#include <functional>
#include <string>

#include "core/ack_deadlines.h"
#include "core/catalogs.h"
#include "server/metrics.h"
#include "server/peer_identity.h"
#include "server/security_events.h"
#include "server/subscription_hub.h"
#include "store/group_committer.h"
#include "store/store.h"

namespace infoflyt {

// Everything the services share. Owned by the daemon; outlives the gRPC server.
struct ServiceContext {
  CatalogsHolder* catalogs;
  PeerAuthenticator* authenticator;
  SecurityEvents* security;  // Where refusals go.
  Store* store;
  GroupCommitter* committer;
  SubscriptionHub* hub;
  Metrics* metrics;
  // Runs store reads and subscription wake-ups off gRPC's callback threads.
  asio::any_io_executor executor;
  std::string subject_key;     // HMAC key for data-subject hashes.
  AckDeadlines ack_deadlines;  // By when municipalities must acknowledge notices.
  // Told of each acknowledgement deadline stored, so the escalation timer can watch it.
  std::function<void(int64_t deadline)> watch_deadline;
  // Open Subscribe streams a party may hold at once, so one party cannot starve the others.
  size_t max_streams_per_party = 8;
};

}  // namespace infoflyt
