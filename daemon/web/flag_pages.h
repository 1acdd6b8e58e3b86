// The flag registry's form (PST, police, correctional): GET /flags/new and POST /flags flag a
// person through the same act as the Registry service's Flag — validated, recorded and refused
// exactly as the call is. The form carries the flag's id, made when the form was shown, so a
// double click or a resubmitted form flags once. The identity number travels only in the body.
#pragma once

#include "server/registry_actions.h"
#include "web/web_server.h"

namespace infoflyt {

void AddFlagPages(WebServer* server, const ServiceContext* ctx, const RegistryActions* actions);

}  // namespace infoflyt
