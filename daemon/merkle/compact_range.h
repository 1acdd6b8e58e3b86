// The right edge of a growing Merkle tree: what a log keeps in memory to append in O(log n).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "merkle/node_reader.h"

namespace infoflyt::merkle {

// The hashes of the perfect subtrees that tile leaves [0, size): one per set bit of size,
// largest (leftmost) first, so at most 64. Append adds a leaf and reports every perfect subtree
// it completes, which the caller stores (in the same transaction as the leaf) so that readers
// can later serve proofs for any size. Not thread-safe.
class CompactRange {
 public:
  // The empty tree.
  CompactRange() = default;

  // The range of the first `size` leaves, read from the O(log size) stored nodes of its right
  // edge in one GetNodes call. The reader's error if they are not all stored.
  static Status FromReader(const NodeReader& reader, uint64_t size, CompactRange* out);

  uint64_t size() const { return size_; }
  // The right-edge hashes, largest subtree first.
  const std::vector<std::string>& hashes() const { return hashes_; }

  // Appends the leaf with hash `leaf_hash` (kHashSize bytes) as leaf number size(). Replaces
  // *completed with the nodes this completes, bottom up: the leaf itself (level 0), then each
  // parent that now has both children. Leaves the range unchanged on error.
  Status Append(std::string_view leaf_hash, std::vector<Node>* completed);

  // The RFC 9162 root hash MTH(D[0:size]); EmptyRoot() for size 0.
  std::string Root() const;

 private:
  uint64_t size_ = 0;
  std::vector<std::string> hashes_;
};

}  // namespace infoflyt::merkle
