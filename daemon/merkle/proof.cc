#include "merkle/proof.h"

#include <bit>

#include "merkle/merkle_hash.h"

namespace infoflyt::merkle {
namespace {

Status Fail(std::string message) { return {Code::kInvalidArgument, std::move(message)}; }

// Where RFC 9162 §2.1.1 splits the tree of leaves [begin, end), end - begin >= 2: after the
// largest power of two smaller than its size.
uint64_t Split(uint64_t begin, uint64_t end) { return begin + std::bit_floor(end - begin - 1); }

// Appends the ranges whose hashes make up PATH(index - begin, D[begin:end]), §2.1.3.1.
void AppendPathRanges(uint64_t index, uint64_t begin, uint64_t end, std::vector<LeafRange>* out) {
  if (end - begin <= 1) return;
  const uint64_t split = Split(begin, end);
  if (index < split) {
    AppendPathRanges(index, begin, split, out);
    out->push_back({split, end});
  } else {
    AppendPathRanges(index, split, end, out);
    out->push_back({begin, split});
  }
}

// Appends the ranges whose hashes make up SUBPROOF(size1 - begin, D[begin:end], complete),
// §2.1.4.1, for begin < size1 <= end. `complete` is the RFC's b: whether D[begin:size1] is
// the whole old tree, whose root the verifier already has.
void AppendSubproofRanges(uint64_t size1, uint64_t begin, uint64_t end, bool complete,
                          std::vector<LeafRange>* out) {
  if (size1 == end) {
    if (!complete) out->push_back({begin, end});
    return;
  }
  const uint64_t split = Split(begin, end);
  if (size1 <= split) {
    AppendSubproofRanges(size1, begin, split, complete, out);
    out->push_back({split, end});
  } else {
    AppendSubproofRanges(size1, split, end, false, out);
    out->push_back({begin, split});
  }
}

Status CheckHashSize(std::string_view hash, const char* what) {
  if (hash.size() == kHashSize) return Status::Ok();
  return Fail(std::string(what) + " is " + std::to_string(hash.size()) + " bytes, not " +
              std::to_string(kHashSize));
}

Status CheckProofHashSizes(std::span<const std::string> proof) {
  for (size_t i = 0; i < proof.size(); ++i) {
    if (proof[i].size() != kHashSize) {
      return Fail("proof hash " + std::to_string(i) + " is " + std::to_string(proof[i].size()) +
                  " bytes, not " + std::to_string(kHashSize));
    }
  }
  return Status::Ok();
}

}  // namespace

Status InclusionProof(const NodeReader& reader, uint64_t index, uint64_t size,
                      std::vector<std::string>* proof) {
  if (index >= size) {
    return Fail("leaf index " + std::to_string(index) + " is not below tree size " +
                std::to_string(size));
  }
  std::vector<LeafRange> ranges;
  AppendPathRanges(index, 0, size, &ranges);
  return SubtreeHashes(reader, ranges, proof);
}

Status ConsistencyProof(const NodeReader& reader, uint64_t size1, uint64_t size2,
                        std::vector<std::string>* proof) {
  if (size1 > size2) {
    return Fail("old tree size " + std::to_string(size1) + " is larger than new tree size " +
                std::to_string(size2));
  }
  proof->clear();
  if (size1 == 0 || size1 == size2) return Status::Ok();
  std::vector<LeafRange> ranges;
  AppendSubproofRanges(size1, 0, size2, true, &ranges);
  return SubtreeHashes(reader, ranges, proof);
}

Status VerifyInclusion(std::string_view leaf_hash, uint64_t index, uint64_t size,
                       std::span<const std::string> proof, std::string_view root) {
  // The steps of §2.1.3.2.
  if (index >= size) {
    return Fail("leaf index " + std::to_string(index) + " is not below tree size " +
                std::to_string(size));
  }
  if (Status s = CheckHashSize(leaf_hash, "leaf hash"); !s.ok()) return s;
  if (Status s = CheckHashSize(root, "root hash"); !s.ok()) return s;
  if (Status s = CheckProofHashSizes(proof); !s.ok()) return s;

  // fn and sn are the positions of the current node and of the last node on the current level.
  // Where they are equal the current node is on the right edge, and the levels at which it has
  // no sibling are skipped.
  uint64_t fn = index;
  uint64_t sn = size - 1;
  std::string r(leaf_hash);
  for (const std::string& p : proof) {
    if (sn == 0) return Fail("inclusion proof is longer than the path to the root");
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Fail("inclusion proof is missing hashes");
  if (r != root) return Fail("inclusion proof does not lead to the root hash");
  return Status::Ok();
}

Status VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const std::string> proof,
                         std::string_view root1, std::string_view root2) {
  if (size1 > size2) {
    return Fail("old tree size " + std::to_string(size1) + " is larger than new tree size " +
                std::to_string(size2));
  }
  if (Status s = CheckHashSize(root1, "old root hash"); !s.ok()) return s;
  if (Status s = CheckHashSize(root2, "new root hash"); !s.ok()) return s;
  if (Status s = CheckProofHashSizes(proof); !s.ok()) return s;
  if (size1 == 0 || size1 == size2) {
    if (!proof.empty()) {
      return Fail("consistency proof from size " + std::to_string(size1) + " to " +
                  std::to_string(size2) + " must be empty");
    }
    if (size1 == 0 && root1 != EmptyRoot()) return Fail("old root is not the empty tree's root");
    if (size1 == size2 && root1 != root2) return Fail("trees of the same size differ");
    return Status::Ok();
  }

  // The steps of §2.1.4.2, for 0 < size1 < size2.
  if (proof.empty()) return Fail("consistency proof is empty");
  // Step 2: when size1 is a power of two the old tree is a node of the new one and the proof
  // leaves its hash out.
  std::vector<std::string_view> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(size1)) path.push_back(root1);
  path.insert(path.end(), proof.begin(), proof.end());

  uint64_t fn = size1 - 1;
  uint64_t sn = size2 - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  std::string fr(path[0]);
  std::string sr(path[0]);
  for (size_t i = 1; i < path.size(); ++i) {
    const std::string_view c = path[i];
    if (sn == 0) return Fail("consistency proof is longer than the path to the root");
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Fail("consistency proof is missing hashes");
  if (fr != root1) return Fail("consistency proof does not lead to the old root hash");
  if (sr != root2) return Fail("consistency proof does not lead to the new root hash");
  return Status::Ok();
}

}  // namespace infoflyt::merkle
