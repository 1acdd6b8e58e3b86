// The Registry gRPC service (callback API): Flag, Unflag, ListFlags.
#pragma once

#include "infoflyt/v1/registry.grpc.pb.h"
#include "server/exchange_service.h"

namespace infoflyt {

class RegistryService final : public v1::Registry::CallbackService {
 public:
  explicit RegistryService(ServiceContext context) : ctx_(std::move(context)) {}

  grpc::ServerUnaryReactor* Flag(grpc::CallbackServerContext* call, const v1::FlagRequest* request,
                                 v1::FlagRecord* response) override;
  grpc::ServerUnaryReactor* Unflag(grpc::CallbackServerContext* call,
                                   const v1::UnflagRequest* request,
                                   v1::FlagRecord* response) override;
  grpc::ServerUnaryReactor* ListFlags(grpc::CallbackServerContext* call,
                                      const v1::ListFlagsRequest* request,
                                      v1::ListFlagsResponse* response) override;

 private:
  // Commits `op` through the group committer and answers with its flag.
  template <typename Op>
  grpc::ServerUnaryReactor* Commit(grpc::CallbackServerContext* call, Op op, FlagInfo Op::*result,
                                   v1::FlagRecord* response) const;

  ServiceContext ctx_;
};

}  // namespace infoflyt
