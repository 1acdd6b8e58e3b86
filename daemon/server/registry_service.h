// The Registry gRPC service (callback API): Flag, Unflag, ListFlags.
#pragma once

#include "infoflyt/v1/registry.grpc.pb.h"
#include "server/exchange_service.h"
#include "server/registry_actions.h"

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
  ServiceContext ctx_;
  RegistryActions actions_{&ctx_};
};

}  // namespace infoflyt
