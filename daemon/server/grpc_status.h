// Maps infoflyt::Status to grpc::Status. Field violations travel as google.rpc.BadRequest in
// the standard grpc-status-details-bin trailer, so any gRPC client can show which field failed.
#pragma once

#include <grpcpp/support/status.h>

#include "base/status.h"

namespace infoflyt {

grpc::Status ToGrpcStatus(const Status& status);

}  // namespace infoflyt
