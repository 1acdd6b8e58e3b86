// Checks a posted envelope before anything is routed or stored.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "core/legal_basis.h"
#include "core/places.h"
#include "infoflyt/v1/messages.pb.h"

namespace infoflyt {

// OK, or INVALID_ARGUMENT listing every violation with its field path below "envelope." and why;
// a field this daemon does not know, at any depth, is one (naming where and its number).
// Descriptions never contain the value of an identity number. `now_micros` anchors the time
// windows (a release planned at most 31 days ago and 10 years ahead, and so on).
Status ValidateEnvelope(const v1::Envelope& envelope, const Places& places,
                        const LegalBasisCatalogue& bases, int64_t now_micros);

}  // namespace infoflyt
