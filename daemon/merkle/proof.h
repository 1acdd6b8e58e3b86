// RFC 9162 Merkle inclusion (§2.1.3) and consistency (§2.1.4) proofs: generated from stored
// perfect subtrees with O(log n) node reads in one batch, and verified with the RFC's
// algorithms. Proofs are lists of kHashSize-byte hashes, bottom up, exactly as the RFC defines
// them, so any RFC 9162 / RFC 6962 / C2SP tlog client can check them.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "merkle/node_reader.h"

namespace infoflyt::merkle {

// The inclusion proof PATH(index, D[0:size]) of §2.1.3.1: empty for size 1. INVALID_ARGUMENT
// if index >= size; the reader's error otherwise. `size` must not exceed the tree the reader
// holds: reads past it fail with NOT_FOUND, but the proof of leaf size - 1 reads nothing at or
// after that leaf, so this is not checked.
Status InclusionProof(const NodeReader& reader, uint64_t index, uint64_t size,
                      std::vector<std::string>* proof);

// The consistency proof PROOF(size1, D[0:size2]) of §2.1.4.1, defined there for
// 0 < size1 < size2. Empty, without reading anything, if size1 == 0 or size1 == size2 (there
// is nothing to prove). INVALID_ARGUMENT if size1 > size2; the reader's error otherwise.
Status ConsistencyProof(const NodeReader& reader, uint64_t size1, uint64_t size2,
                        std::vector<std::string>* proof);

// §2.1.3.2: OK iff `proof` shows that `leaf_hash` is leaf `index` of the tree of `size` leaves
// whose root is `root`; INVALID_ARGUMENT saying why not otherwise. Proofs with missing or
// extra hashes fail. The proof binds the tree size only through `root` (leaf 4 has the same
// proof shape in trees of 7 and 8 leaves), so trust `size` only as much as the signed tree head
// it comes with.
Status VerifyInclusion(std::string_view leaf_hash, uint64_t index, uint64_t size,
                       std::span<const std::string> proof, std::string_view root);

// §2.1.4.2: OK iff `proof` shows that the tree of size2 leaves with root root2 extends the
// tree of size1 leaves with root root1; INVALID_ARGUMENT saying why not otherwise. The RFC
// covers 0 < size1 < size2; beyond it, as for generation: size1 == size2 needs an empty proof
// and root1 == root2, and size1 == 0 needs an empty proof and root1 == EmptyRoot() (every tree
// extends the empty one, so root2 is not checked).
Status VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const std::string> proof,
                         std::string_view root1, std::string_view root2);

}  // namespace infoflyt::merkle
