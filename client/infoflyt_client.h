// The infoflyt C++ client library: an mTLS channel to infoflytd and typed calls over the
// generated Exchange, Registry and Audit stubs. The caller's identity is its certificate;
// nothing else is sent.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "infoflyt/v1/audit.grpc.pb.h"
#include "infoflyt/v1/exchange.grpc.pb.h"
#include "infoflyt/v1/registry.grpc.pb.h"

namespace infoflyt::client {

struct ClientOptions {
  std::string server = "localhost:7443";  // host:port of infoflytd.
  std::string cert;                       // PEM file: this party's client certificate.
  std::string key;                        // PEM file: its private key.
  std::string ca;                         // PEM file: the CA that issued the server's certificate.
  std::string server_name;                // Overrides the TLS name checked, if not the host.
  std::chrono::milliseconds timeout{10000};  // Per unary call.
  // Calls wait (up to their deadline) for the connection instead of failing at once while the
  // channel reconnects. Long-running clients want this: with gRPC 1.51's polling model a
  // reconnect otherwise only progresses on the backup poller, every few seconds. A one-shot
  // command line tool turns it off so an unreachable server fails fast.
  bool wait_for_ready = true;
  // If set, sees the final status of every call on the channel (for logging, or for tests that
  // check error texts). Called on gRPC's threads: it must be quick and thread-safe.
  std::function<void(const grpc::Status&)> on_status;
};

struct FieldViolation {
  std::string field;
  std::string description;
};

// The google.rpc.BadRequest field violations attached to an error, if any.
std::vector<FieldViolation> FieldViolationsOf(const grpc::Status& status);

class ExchangeClient {
 public:
  // Reads the PEM files and sets up the channel (connection happens on first call). An error
  // names the file that could not be read.
  static grpc::Status Connect(const ClientOptions& options, std::unique_ptr<ExchangeClient>* out);

  grpc::Status Post(const v1::Envelope& envelope, v1::Receipt* receipt);
  grpc::Status Ack(const std::vector<uint64_t>& delivery_ids, v1::AckResponse* response);
  grpc::Status GetMessageStatus(const std::string& message_id, v1::MessageStatus* status);
  // What the server says; receipt_verify.h checks it.
  grpc::Status GetReceiptEvidence(const std::string& message_id, v1::ReceiptEvidence* evidence);

  // Streams deliveries (see SubscribeRequest) to `on_delivery` until it returns false, the
  // stream ends, or `context` is cancelled (context->TryCancel() from another thread).
  grpc::Status Subscribe(uint64_t from_delivery_id, grpc::ClientContext* context,
                         const std::function<bool(const v1::Delivery&)>& on_delivery);

  grpc::Status Flag(const v1::FlagRequest& request, v1::FlagRecord* flag);
  grpc::Status Unflag(const std::string& flag_id, v1::FlagRecord* flag);
  grpc::Status ListFlags(const v1::ListFlagsRequest& request, v1::ListFlagsResponse* response);

  // The Audit service (auditor parties only; every call is itself logged). These return what
  // the server says; checking proofs and signatures is log_verify.h's job.
  grpc::Status QueryDisclosures(const v1::QueryDisclosuresRequest& request,
                                v1::QueryDisclosuresResponse* response);
  grpc::Status SubjectAccessReport(const std::string& national_id,
                                   v1::SubjectAccessReportResponse* report);
  // tree_size 0: the latest checkpoint.
  grpc::Status GetCheckpoint(uint64_t tree_size, v1::SignedCheckpoint* checkpoint);
  grpc::Status GetPolicyText(const std::string& sha256_hex, v1::PolicyText* text);
  grpc::Status GetStatistics(const v1::GetStatisticsRequest& request, v1::Statistics* stats);
  grpc::Status GetInclusionProof(uint64_t index, uint64_t tree_size, v1::InclusionProof* proof);
  grpc::Status GetConsistencyProof(uint64_t from_size, uint64_t to_size,
                                   v1::ConsistencyProof* proof);
  // Streams the log (see ExportLogRequest) to `on_entry` until it returns false, the stream
  // ends, or `context` is cancelled. No deadline is set: a whole log may take a while; set one
  // on `context` if wanted.
  grpc::Status ExportLog(const v1::ExportLogRequest& request, grpc::ClientContext* context,
                         const std::function<bool(const v1::LogEntry&)>& on_entry);

  v1::Exchange::Stub& stub() { return *stub_; }

 private:
  ExchangeClient(ClientOptions options, std::shared_ptr<grpc::Channel> channel);
  void PrepareUnary(grpc::ClientContext* context) const;

  ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Exchange::Stub> stub_;
  std::unique_ptr<v1::Registry::Stub> registry_;
  std::unique_ptr<v1::Audit::Stub> audit_;
};

}  // namespace infoflyt::client
