// An in-memory NodeReader, for tests and benchmarks.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "merkle/node_reader.h"

namespace infoflyt::merkle {

// Holds nodes level by level in append order, as CompactRange::Append produces them (about
// 64 bytes per leaf in total). Not thread-safe.
class MemoryNodeStore : public NodeReader {
 public:
  // Stores `nodes`. Each must be the next node of its level (nodes never change and logs append
  // them in order) or an exact copy of a stored one. FAILED_PRECONDITION for a gap,
  // ALREADY_EXISTS for a different hash of a stored node, INVALID_ARGUMENT for a bad level or
  // hash size; the nodes before the failing one are stored.
  Status Put(std::span<const Node> nodes);

  Status GetNodes(std::span<const NodeId> ids, std::vector<std::string>* hashes) const override;

 private:
  // levels_[L] is the concatenation of the level-L hashes, kHashSize bytes each.
  std::vector<std::string> levels_;
};

}  // namespace infoflyt::merkle
