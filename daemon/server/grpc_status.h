// Maps infoflyt::Status to grpc::Status. Field violations travel as google.rpc.BadRequest in
// the standard grpc-status-details-bin trailer, so any gRPC client can show which field failed.
#pragma once

#include <grpcpp/support/callback_common.h>
#include <grpcpp/support/server_callback.h>
#include <grpcpp/support/status.h>

#include "base/status.h"

namespace infoflyt {

grpc::Status ToGrpcStatus(const Status& status);

// Finishes a unary callback call at once with `status`; returns its reactor.
grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* call, const Status& status);

}  // namespace infoflyt
