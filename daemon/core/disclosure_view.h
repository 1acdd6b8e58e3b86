// Least data: what one recipient is given of a message, cut down to the view of the flow that
// allows the disclosure. Applied server-side before storing the delivery, so a recipient can
// never obtain the other fields.
#pragma once

#include "core/legal_basis.h"
#include "infoflyt/v1/messages.pb.h"

namespace infoflyt {

// A copy of `envelope` whose body keeps only the fields in `flow`'s view (all of it for a
// "full" view). Envelope-level fields (legal basis, handling) are always kept.
v1::Envelope ApplyView(const v1::Envelope& envelope, const Flow& flow);

}  // namespace infoflyt
