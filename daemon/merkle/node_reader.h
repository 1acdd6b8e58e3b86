// Stored tree nodes and how proofs read them.
//
// A log stores the hash of every *perfect* subtree once it is complete: node (level L, index i)
// is the RFC 9162 hash of leaves [i * 2^L, (i + 1) * 2^L); level 0 holds the leaf hashes. Such
// nodes never change once written, so any tree size's root, proofs and compact range can be
// computed from O(log n) of them, and no leaf is ever rehashed.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace infoflyt::merkle {

struct NodeId {
  int level = 0;       // 0 for leaves; at most 63.
  uint64_t index = 0;  // Position among the nodes of its level, from 0.
  bool operator==(const NodeId&) const = default;
};

struct Node {
  NodeId id;
  std::string hash;  // kHashSize bytes.
};

// Read access to stored perfect-subtree nodes. Batched, so that a database answers a whole proof
// (O(log n) nodes) with one query.
class NodeReader {
 public:
  virtual ~NodeReader() = default;

  // On success *hashes holds exactly one hash per id, in the order of `ids`. NOT_FOUND if any
  // node is not stored (the tree is smaller than the caller assumed).
  virtual Status GetNodes(std::span<const NodeId> ids, std::vector<std::string>* hashes) const = 0;
};

// A range of leaves [begin, end).
struct LeafRange {
  uint64_t begin = 0;
  uint64_t end = 0;
  bool operator==(const LeafRange&) const = default;
};

// The RFC 9162 hash MTH(D[begin:end]) of each range, from one GetNodes call, rehashing no
// leaf. A range must be non-empty and start at a multiple of the largest power of two <= its
// length, as every range in RFC 9162 proofs and roots does: then it splits into popcount(length)
// stored perfect subtrees, largest first, whose hashes fold into MTH. [0, 0) is allowed and
// gives EmptyRoot(). INVALID_ARGUMENT for other ranges; the reader's error if it fails
// (NOT_FOUND if a range reaches past the stored tree).
Status SubtreeHashes(const NodeReader& reader, std::span<const LeafRange> ranges,
                     std::vector<std::string>* hashes);

// SubtreeHashes for one range. SubtreeHash(reader, 0, n, &root) gives the root of size n.
Status SubtreeHash(const NodeReader& reader, uint64_t begin, uint64_t end, std::string* hash);

}  // namespace infoflyt::merkle
