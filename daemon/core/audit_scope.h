// What an auditor party sees of the disclosure log. An auditor may be limited by kinds of party
// (parties.toml `out_of_scope`, e.g. the Data Protection Authority sees no PST records while the
// EOS committee, PST's overseer, sees them): a record is out of its scope if a party of such a
// kind sent it, received it, or had it made on its behalf (registry acts by such a party
// included: their sender is that party). Out-of-scope records are left out of the auditor's
// queries; in its exports and proofs they are replaced by their leaf hash, so that it can still
// verify the whole log (each leaf is in the tree) without reading them.
#pragma once

#include "core/parties.h"
#include "infoflyt/v1/audit.pb.h"

namespace infoflyt {

bool InScope(const Party& auditor, const v1::DisclosureRecord& record);

}  // namespace infoflyt
