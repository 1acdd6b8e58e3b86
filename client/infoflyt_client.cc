#include "infoflyt_client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/client_interceptor.h>

#include <fstream>
#include <sstream>

#include "google/rpc/error_details.pb.h"

namespace infoflyt::client {
namespace {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

// Hands each call's final status to ClientOptions::on_status.
class StatusObserver : public grpc::experimental::Interceptor {
 public:
  explicit StatusObserver(const std::function<void(const grpc::Status&)>* on_status)
      : on_status_(on_status) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::POST_RECV_STATUS)) {
      (*on_status_)(*methods->GetRecvStatus());
    }
    methods->Proceed();
  }

 private:
  const std::function<void(const grpc::Status&)>* on_status_;  // Owned by the factory.
};

class StatusObserverFactory : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit StatusObserverFactory(std::function<void(const grpc::Status&)> on_status)
      : on_status_(std::move(on_status)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* /*info*/) override {
    // gRPC takes ownership of the interceptor and deletes it when the call ends.
    return new StatusObserver(&on_status_);  // NOLINT(cppcoreguidelines-owning-memory)
  }

 private:
  std::function<void(const grpc::Status&)> on_status_;
};

}  // namespace

std::vector<FieldViolation> FieldViolationsOf(const grpc::Status& status) {
  std::vector<FieldViolation> out;
  google::rpc::Status details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) {
    return out;
  }
  for (const auto& any : details.details()) {
    google::rpc::BadRequest bad_request;
    if (!any.UnpackTo(&bad_request)) continue;
    for (const auto& v : bad_request.field_violations()) {
      out.push_back({v.field(), v.description()});
    }
  }
  return out;
}

grpc::Status ExchangeClient::Connect(const ClientOptions& options,
                                     std::unique_ptr<ExchangeClient>* out) {
  grpc::SslCredentialsOptions tls;
  for (auto [what, path, text] :
       {std::tuple{"client certificate", &options.cert, &tls.pem_cert_chain},
        std::tuple{"client key", &options.key, &tls.pem_private_key},
        std::tuple{"CA certificate", &options.ca, &tls.pem_root_certs}}) {
    if (path->empty()) {
      return {grpc::StatusCode::INVALID_ARGUMENT, std::string(what) + " file is not set"};
    }
    if (!ReadFile(*path, text)) {
      return {grpc::StatusCode::INVALID_ARGUMENT,
              std::string("cannot read ") + what + " file " + *path};
    }
  }
  grpc::ChannelArguments args;
  if (!options.server_name.empty()) args.SetSslTargetNameOverride(options.server_name);
  // gRPC backs reconnects off up to 120 s; a party's client has one daemon to talk to and should
  // be back within seconds of that daemon restarting, not minutes.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> observers;
  if (options.on_status)
    observers.push_back(std::make_unique<StatusObserverFactory>(options.on_status));
  auto channel = grpc::experimental::CreateCustomChannelWithInterceptors(
      options.server, grpc::SslCredentials(tls), args, std::move(observers));
  *out = std::unique_ptr<ExchangeClient>(new ExchangeClient(options, std::move(channel)));
  return grpc::Status::OK;
}

ExchangeClient::ExchangeClient(ClientOptions options, std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      stub_(v1::Exchange::NewStub(channel_)),
      registry_(v1::Registry::NewStub(channel_)),
      audit_(v1::Audit::NewStub(channel_)) {}

void ExchangeClient::PrepareUnary(grpc::ClientContext* context) const {
  context->set_deadline(std::chrono::system_clock::now() + options_.timeout);
  context->set_wait_for_ready(options_.wait_for_ready);
}

grpc::Status ExchangeClient::Post(const v1::Envelope& envelope, v1::Receipt* receipt) {
  grpc::ClientContext context;
  PrepareUnary(&context);
  v1::PostRequest request;
  *request.mutable_envelope() = envelope;
  return stub_->Post(&context, request, receipt);
}

grpc::Status ExchangeClient::Ack(const std::vector<uint64_t>& delivery_ids,
                                 v1::AckResponse* response) {
  grpc::ClientContext context;
  PrepareUnary(&context);
  v1::AckRequest request;
  for (uint64_t id : delivery_ids) request.add_delivery_ids(id);
  return stub_->Ack(&context, request, response);
}

grpc::Status ExchangeClient::GetMessageStatus(const std::string& message_id,
                                              v1::MessageStatus* status) {
  grpc::ClientContext context;
  PrepareUnary(&context);
  v1::GetMessageStatusRequest request;
  request.set_message_id(message_id);
  return stub_->GetMessageStatus(&context, request, status);
}

grpc::Status ExchangeClient::GetReceiptEvidence(const std::string& message_id,
                                                v1::ReceiptEvidence* evidence) {
  grpc::ClientContext context;
  PrepareUnary(&context);
  v1::GetMessageStatusRequest request;
  request.set_message_id(message_id);
  return stub_->GetReceiptEvidence(&context, request, evidence);
}

grpc::Status ExchangeClient::Flag(const v1::FlagRequest& request, v1::FlagRecord* flag) {
  grpc::ClientContext context;
  PrepareUnary(&context);
  return registry_->Flag(&context, request, flag);
}

grpc::Status ExchangeClient::Unflag(const std::string& flag_id, v1::FlagRecord* flag) {
  grpc::ClientContext context;
  PrepareUnary(&context);
  v1::UnflagRequest request;
  request.set_flag_id(flag_id);
  return registry_->Unflag(&context, request, flag);
}

grpc::Status ExchangeClient::ListFlags(const v1::ListFlagsRequest& request,
                                       v1::ListFlagsResponse* response) {
  grpc::ClientContext context;
  PrepareUnary(&context);
  return registry_->ListFlags(&context, request, response);
}

grpc::Status ExchangeClient::Subscribe(
    uint64_t from_delivery_id, grpc::ClientContext* context,
    const std::function<bool(const v1::Delivery&)>& on_delivery) {
  v1::SubscribeRequest request;
  request.set_from_delivery_id(from_delivery_id);
  context->set_wait_for_ready(options_.wait_for_ready);
  auto reader = stub_->Subscribe(context, request);
  v1::Delivery delivery;
  while (reader->Read(&delivery)) {
    if (!on_delivery(delivery)) {
      context->TryCancel();
      break;
    }
  }
  return reader->Finish();
}

grpc::Status ExchangeClient::QueryDisclosures(const v1::QueryDisclosuresRequest& request,
                                              v1::QueryDisclosuresResponse* response) {
  grpc::ClientContext context;
  PrepareUnary(&context);
  return audit_->QueryDisclosures(&context, request, response);
}

grpc::Status ExchangeClient::SubjectAccessReport(const std::string& national_id,
                                                 v1::SubjectAccessReportResponse* report) {
  grpc::ClientContext context;
  PrepareUnary(&context);
  v1::SubjectAccessReportRequest request;
  request.set_national_id(national_id);
  return audit_->SubjectAccessReport(&context, request, report);
}

grpc::Status ExchangeClient::GetCheckpoint(uint64_t tree_size, v1::SignedCheckpoint* checkpoint) {
  grpc::ClientContext context;
  PrepareUnary(&context);
  v1::GetCheckpointRequest request;
  request.set_tree_size(tree_size);
  return audit_->GetCheckpoint(&context, request, checkpoint);
}

grpc::Status ExchangeClient::GetPolicyText(const std::string& sha256_hex, v1::PolicyText* text) {
  grpc::ClientContext context;
  PrepareUnary(&context);
  v1::GetPolicyTextRequest request;
  request.set_sha256(sha256_hex);
  return audit_->GetPolicyText(&context, request, text);
}

grpc::Status ExchangeClient::GetStatistics(const v1::GetStatisticsRequest& request,
                                           v1::Statistics* stats) {
  grpc::ClientContext context;
  PrepareUnary(&context);
  return audit_->GetStatistics(&context, request, stats);
}

grpc::Status ExchangeClient::GetInclusionProof(uint64_t index, uint64_t tree_size,
                                               v1::InclusionProof* proof) {
  grpc::ClientContext context;
  PrepareUnary(&context);
  v1::GetInclusionProofRequest request;
  request.set_index(index);
  request.set_tree_size(tree_size);
  return audit_->GetInclusionProof(&context, request, proof);
}

grpc::Status ExchangeClient::GetConsistencyProof(uint64_t from_size, uint64_t to_size,
                                                 v1::ConsistencyProof* proof) {
  grpc::ClientContext context;
  PrepareUnary(&context);
  v1::GetConsistencyProofRequest request;
  request.set_from_size(from_size);
  request.set_to_size(to_size);
  return audit_->GetConsistencyProof(&context, request, proof);
}

grpc::Status ExchangeClient::ExportLog(const v1::ExportLogRequest& request,
                                       grpc::ClientContext* context,
                                       const std::function<bool(const v1::LogEntry&)>& on_entry) {
  context->set_wait_for_ready(options_.wait_for_ready);
  auto reader = audit_->ExportLog(context, request);
  v1::LogEntry entry;
  while (reader->Read(&entry)) {
    if (!on_entry(entry)) {
      context->TryCancel();
      break;
    }
  }
  return reader->Finish();
}

}  // namespace infoflyt::client
