// What an auditor party sees of the disclosure log. An auditor may be limited by kinds of party
// (parties.toml `out_of_scope`, e.g. the Data Protection Authority sees no PST records while the
// EOS committee, PST's overseer, sees them): a record is out of its scope if a party of such a
// kind sent it, received it, or had it made on its behalf (registry acts and escalations
// included: their sender or on_behalf_of is that party), and so is another auditor's read of
// the log (its filters may name what is out of scope). Out-of-scope records are left out of
// the auditor's queries and subject access reports; in its exports and proofs they are replaced
// by their leaf hash, so that it can still verify the whole log without reading them.
#pragma once

#include <string>
#include <vector>

#include "core/parties.h"
#include "infoflyt/v1/audit.pb.h"

namespace infoflyt {

bool InScope(const Party& auditor, const v1::DisclosureRecord& record);

// The same rule as store filters (RecordFilter): records naming a party key with one of
// `excluded_prefixes` ("pst/") as sender, recipient or on_behalf_of are left out, and, if
// `reader` is set, reads of the log by auditors other than `reader`.
struct ScopeFilter {
  std::vector<std::string> excluded_prefixes;
  std::string reader;
};
ScopeFilter ScopeOf(const Party& auditor);

}  // namespace infoflyt
