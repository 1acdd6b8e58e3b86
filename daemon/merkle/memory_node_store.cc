#include "merkle/memory_node_store.h"

#include "merkle/merkle_hash.h"

namespace infoflyt::merkle {
namespace {

std::string NodeText(const NodeId& id) {
  return "node (level " + std::to_string(id.level) + ", index " + std::to_string(id.index) + ")";
}

}  // namespace

Status MemoryNodeStore::Put(std::span<const Node> nodes) {
  for (const Node& node : nodes) {
    if (node.id.level < 0 || node.id.level > 63) {
      return {Code::kInvalidArgument, "bad level in " + NodeText(node.id)};
    }
    if (node.hash.size() != kHashSize) {
      return {Code::kInvalidArgument,
              "hash of " + NodeText(node.id) + " is not " + std::to_string(kHashSize) + " bytes"};
    }
    const auto level = static_cast<size_t>(node.id.level);
    if (levels_.size() <= level) levels_.resize(level + 1);
    std::string& hashes = levels_[level];
    const uint64_t count = hashes.size() / kHashSize;
    if (node.id.index > count) {
      return {Code::kFailedPrecondition,
              NodeText(node.id) + " would leave a gap after " + std::to_string(count) + " nodes"};
    }
    if (node.id.index == count) {
      hashes.append(node.hash);
    } else if (hashes.compare(node.id.index * kHashSize, kHashSize, node.hash) != 0) {
      return {Code::kAlreadyExists, NodeText(node.id) + " is stored with a different hash"};
    }
  }
  return Status::Ok();
}

Status MemoryNodeStore::GetNodes(std::span<const NodeId> ids,
                                 std::vector<std::string>* hashes) const {
  hashes->clear();
  hashes->reserve(ids.size());
  for (const NodeId& id : ids) {
    if (id.level < 0 || static_cast<size_t>(id.level) >= levels_.size() ||
        id.index >= levels_[id.level].size() / kHashSize) {
      return {Code::kNotFound, NodeText(id) + " is not stored"};
    }
    hashes->push_back(levels_[id.level].substr(id.index * kHashSize, kHashSize));
  }
  return Status::Ok();
}

}  // namespace infoflyt::merkle
