// The Exchange gRPC service (callback API): Post, Subscribe, Ack, GetMessageStatus,
// GetReceiptEvidence.
#pragma once

#include <string>

#include "infoflyt/v1/exchange.grpc.pb.h"
#include "server/exchange_actions.h"
#include "server/log_publisher.h"
#include "server/service_context.h"

namespace infoflyt {

// Whether `entry`'s record still hashes to its leaf as logged (StillAsLogged). If not (changed
// in the store since), an error line naming the record and `reader`, and the counter: a changed
// record is never served as if it were good.
bool StillAsLoggedOrReported(const LogEntry& entry, std::string_view reader, Metrics* metrics);

class ExchangeService final : public v1::Exchange::CallbackService {
 public:
  // `log` signs the checkpoints receipt evidence is proven against.
  ExchangeService(ServiceContext context, LogPublisher* log)
      : ctx_(std::move(context)), log_(log) {}
  ExchangeService(const ExchangeService&) = delete;
  ExchangeService& operator=(const ExchangeService&) = delete;

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
  // Fills `response` for GetReceiptEvidence; reads the store and may wait for a checkpoint.
  Status CollectEvidence(const std::string& message_id, const std::string& party,
                         v1::ReceiptEvidence* response);

  ServiceContext ctx_;
  ExchangeActions actions_{&ctx_};
  LogPublisher* const log_;
};

}  // namespace infoflyt
