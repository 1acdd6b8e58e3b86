#include "core/audit_scope.h"

namespace infoflyt {
namespace {

// True if `key` names a party of a kind out of `auditor`'s scope ("infoflytd" names none).
bool Excluded(const Party& auditor, const std::string& key) {
  const std::optional<PartyKind> kind = KindOfKey(key);
  return kind && auditor.out_of_scope.contains(*kind);
}

}  // namespace

bool InScope(const Party& auditor, const v1::DisclosureRecord& record) {
  if (auditor.out_of_scope.empty()) return true;
  if (record.event() == "read" && KindOfKey(record.sender()) == PartyKind::kAuditor &&
      record.sender() != auditor.Key()) {
    return false;
  }
  return !Excluded(auditor, record.sender()) && !Excluded(auditor, record.recipient()) &&
         !Excluded(auditor, record.on_behalf_of());
}

ScopeFilter ScopeOf(const Party& auditor) {
  ScopeFilter scope;
  if (auditor.out_of_scope.empty()) return scope;
  for (PartyKind kind : auditor.out_of_scope) {
    scope.excluded_prefixes.push_back(std::string(PartyKindName(kind)) + "/");
  }
  scope.reader = auditor.Key();
  return scope;
}

}  // namespace infoflyt
