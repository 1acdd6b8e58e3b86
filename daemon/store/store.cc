#include "store/store.h"

#include "merkle/record_leaf.h"

namespace infoflyt {

bool StillAsLogged(const LogEntry& entry) {
  return !entry.leaf_hash.empty() && merkle::RecordLeafHash(entry.record) == entry.leaf_hash;
}

Status Store::QueryRecords(const RecordFilter& filter, uint64_t from_index, size_t limit,
                           std::vector<v1::DisclosureRecord>* out) {
  std::vector<LogEntry> entries;
  if (Status s = QueryLog(filter, from_index, limit, &entries); !s.ok()) return s;
  for (LogEntry& e : entries) out->push_back(std::move(e.record));
  return Status::Ok();
}

}  // namespace infoflyt
