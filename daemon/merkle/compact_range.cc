#include "merkle/compact_range.h"

#include <limits>

#include "merkle/merkle_hash.h"

namespace infoflyt::merkle {

Status CompactRange::FromReader(const NodeReader& reader, uint64_t size, CompactRange* out) {
  // One perfect subtree per set bit L of size, largest first; the bits above L say where it
  // ends.
  std::vector<LeafRange> ranges;
  for (int level = 63; level >= 0; --level) {
    const uint64_t end = (size >> level) << level;
    if ((size >> level) & 1) ranges.push_back({end - (uint64_t{1} << level), end});
  }
  std::vector<std::string> hashes;
  if (Status s = SubtreeHashes(reader, ranges, &hashes); !s.ok()) return s;
  out->size_ = size;
  out->hashes_ = std::move(hashes);
  return Status::Ok();
}

Status CompactRange::Append(std::string_view leaf_hash, std::vector<Node>* completed) {
  if (leaf_hash.size() != kHashSize) {
    return {Code::kInvalidArgument, "leaf hash must be " + std::to_string(kHashSize) +
                                        " bytes, not " + std::to_string(leaf_hash.size())};
  }
  if (size_ == std::numeric_limits<uint64_t>::max()) {
    return {Code::kFailedPrecondition, "the tree is full"};
  }
  completed->clear();
  std::string hash(leaf_hash);
  completed->push_back({{0, size_}, hash});
  // Each trailing 1 bit of size_ is a perfect subtree of the same height just left of the new
  // one: merge them, as in binary addition of 1.
  for (int level = 0; (size_ >> level) & 1; ++level) {
    hash = NodeHash(hashes_.back(), hash);
    hashes_.pop_back();
    completed->push_back({{level + 1, size_ >> (level + 1)}, hash});
  }
  hashes_.push_back(std::move(hash));
  ++size_;
  return Status::Ok();
}

std::string CompactRange::Root() const {
  if (hashes_.empty()) return EmptyRoot();
  std::string root = hashes_.back();
  for (size_t j = hashes_.size() - 1; j > 0; --j) root = NodeHash(hashes_[j - 1], root);
  return root;
}

}  // namespace infoflyt::merkle
