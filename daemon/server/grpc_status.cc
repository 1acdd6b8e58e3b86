#include "server/grpc_status.h"

#include <grpcpp/server_context.h>

#include "google/rpc/error_details.pb.h"

namespace infoflyt {

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* call, const Status& status) {
  auto* reactor = call->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  if (status.violations().empty()) return {code, status.message()};
  google::rpc::BadRequest bad_request;
  for (const FieldViolation& v : status.violations()) {
    auto* fv = bad_request.add_field_violations();
    fv->set_field(v.field);
    fv->set_description(v.description);
  }
  google::rpc::Status details;
  details.set_code(static_cast<int>(code));
  details.set_message(status.message());
  details.add_details()->PackFrom(bad_request);
  return {code, status.message(), details.SerializeAsString()};
}

}  // namespace infoflyt
