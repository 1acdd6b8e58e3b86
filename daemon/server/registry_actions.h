// The flag registry's acts for an identified caller, whatever the transport: gRPC's
// RegistryService and the web port's flag form both call these, so validation and recording
// exist once. `done` is called exactly once, on a thread that must not block.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "infoflyt/v1/registry.pb.h"
#include "server/service_context.h"

namespace infoflyt {

// The kinds of party that may set and end flags.
inline constexpr std::initializer_list<PartyKind> kFlagSetters = {
    PartyKind::kPst, PartyKind::kPolice, PartyKind::kCorrectional};

// The caller, and the rules of the call's snapshot, as the store's registry ops take them.
RegistryCaller RegistryCallerOf(const Caller& caller, const Catalogs& catalogs);

// A flag as the API shows it, active or not at `now`.
void ToProto(const FlagInfo& flag, int64_t now, v1::FlagRecord* out);

class RegistryActions {
 public:
  explicit RegistryActions(const ServiceContext* ctx) : ctx_(ctx) {}

  // Validates and stores `caller`'s flag (INVALID_ARGUMENT naming the field otherwise, storing
  // nothing) under `flag_id`, or a new id if empty. A form that made its id when it was shown
  // posts once: sent again, it is ALREADY_EXISTS with the stored flag and stores nothing (and
  // FAILED_PRECONDITION if that id names a different flag).
  void Flag(const Caller& caller, const Catalogs& catalogs, const v1::FlagRequest& request,
            std::string flag_id, std::function<void(const Status&, v1::FlagRecord)> done) const;

 private:
  const ServiceContext* const ctx_;
};

}  // namespace infoflyt
