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
  return !Excluded(auditor, record.sender()) && !Excluded(auditor, record.recipient()) &&
         !Excluded(auditor, record.on_behalf_of());
}

}  // namespace infoflyt
