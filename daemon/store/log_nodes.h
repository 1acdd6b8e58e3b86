// Which nodes of the disclosure log a store keeps, and reading any node from those: the same
// for every backend, so both store and prove the same tree the same way.
//
// Subtrees of 2 to 8 leaves (levels 1 to 3) are not stored: each commit would otherwise rewrite
// the last row of each of those levels, and their hashes are cheap to recompute from the leaves
// (at most 8 reads and 7 hashes) when a proof needs one. Databases written before kept them;
// they are simply not read.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "merkle/node_reader.h"

namespace infoflyt {

// Whether nodes of `level` are stored when the log grows.
bool StoresLevel(int level);

// A backend's stored nodes, read through one connection.
class StoredNodes {
 public:
  virtual ~StoredNodes() = default;
  // One entry per id, in order: its hash, or nullopt if it is not stored.
  virtual Status Read(std::span<const merkle::NodeId> ids,
                      std::vector<std::optional<std::string>>* hashes) const = 0;
  // The leaf hashes of [begin, end) that are stored, in index order.
  virtual Status ReadLeaves(uint64_t begin, uint64_t end,
                            std::vector<std::string>* hashes) const = 0;
};

// Every node of the log, from the stored ones: read for stored levels (all ids of a call in one
// Read), recomputed from the leaves for the others. NOT_FOUND if a node is beyond the log.
class LogNodeReader final : public merkle::NodeReader {
 public:
  explicit LogNodeReader(const StoredNodes& stored) : stored_(stored) {}
  Status GetNodes(std::span<const merkle::NodeId> ids,
                  std::vector<std::string>* hashes) const override;

 private:
  Status Recompute(const merkle::NodeId& id, std::string* hash) const;
  const StoredNodes& stored_;
};

}  // namespace infoflyt
