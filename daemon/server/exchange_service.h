// The Exchange gRPC service (callback API): Post, Subscribe, Ack, GetMessageStatus,
// GetReceiptEvidence.
#pragma once

#include <asio/any_io_executor.hpp>
#include <functional>
#include <string>

#include "core/ack_deadlines.h"
#include "core/catalogs.h"
#include "infoflyt/v1/exchange.grpc.pb.h"
#include "server/log_publisher.h"
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

// Whether `entry`'s record still hashes to its leaf as logged (StillAsLogged). If not (changed
// in the store since), an error line naming the record and `reader`, and the counter: a changed
// record is never served as if it were good.
bool StillAsLoggedOrReported(const LogEntry& entry, std::string_view reader, Metrics* metrics);

class ExchangeService final : public v1::Exchange::CallbackService {
 public:
  // `log` signs the checkpoints receipt evidence is proven against.
  ExchangeService(ServiceContext context, LogPublisher* log)
      : ctx_(std::move(context)), log_(log) {}

  grpc::ServerUnaryReactor* Post(grpc::CallbackServerContext* call, const v1::PostRequest* request,
                                 v1::Receipt* receipt) override;
  grpc::ServerWriteReactor<v1::Delivery>* Subscribe(grpc::CallbackServerContext* call,
                                                    const v1::SubscribeRequest* request) override;
  grpc::ServerUnaryReactor* Ack(grpc::CallbackServerContext* call, const v1::AckRequest* request,
                                v1::AckResponse* response) override;
  grpc::ServerUnaryReactor* GetMessageStatus(grpc::CallbackServerContext* call,
                                             const v1::GetMessageStatusRequest* request,
                                             v1::MessageStatus* response) override;
  grpc::ServerUnaryReactor* GetReceiptEvidence(grpc::CallbackServerContext* call,
                                               const v1::GetMessageStatusRequest* request,
                                               v1::ReceiptEvidence* response) override;

 private:
  // Validates and routes; on success fills `message`.
  Status Prepare(const Caller& caller, const Catalogs& catalogs, const v1::PostRequest& request,
                 NewMessage* message) const;
  // Prepare, then the committer; answers through `reactor`. `in_flight` counts the post until
  // it is answered.
  void PrepareAndSubmit(const Caller& caller, const Catalogs& catalogs,
                        const v1::PostRequest& request, grpc::ServerUnaryReactor* reactor,
                        v1::Receipt* receipt, std::shared_ptr<void> in_flight);

  // Fills `response` for GetReceiptEvidence; reads the store and may wait for a checkpoint.
  Status CollectEvidence(const std::string& message_id, const std::string& party,
                         v1::ReceiptEvidence* response);

  ServiceContext ctx_;
  LogPublisher* const log_;
};

}  // namespace infoflyt
