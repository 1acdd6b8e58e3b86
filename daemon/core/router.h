// Routing: who receives a message. Pure: depends only on the sender, the message and the loaded
// places and parties. The legal-basis policy (which of these recipients the basis allows, and
// with which view) is applied to the routed recipients afterwards.
#pragma once

#include <vector>

#include "base/status.h"
#include "core/parties.h"
#include "core/places.h"
#include "infoflyt/v1/messages.pb.h"

namespace infoflyt {

// On success `recipients` holds the distinct recipients, never the sender, in a stable order.
// PERMISSION_DENIED if the sender's kind may not post this message type. The envelope must
// already be valid (ValidateEnvelope).
//   release_notice  correctional      -> police district of the home municipality, PST, and the
//                                        home municipality if `subject_flagged`
//   return_notice   pst               -> police district and the home municipality
//   case_update     police, pst       -> police district of the home municipality, PST
//   concern_report  municipality      -> police district of the home municipality
//                   police            -> PST
// A home municipality that should be told but has no registered party is named in
// `unconnected` (as its party key), so the caller can record that it was not told.
Status Route(const Party& sender, const v1::Envelope& envelope, const Places& places,
             const PartyRegistry& parties, std::vector<const Party*>* recipients,
             bool subject_flagged = false, std::vector<std::string>* unconnected = nullptr);

}  // namespace infoflyt
