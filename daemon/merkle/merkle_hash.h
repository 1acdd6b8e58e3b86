// RFC 9162 (§2.1.1) Merkle tree hashing with SHA-256. The 0x00 / 0x01 prefixes separate leaves
// from interior nodes, so no leaf can be passed off as a subtree or the other way round.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace infoflyt::merkle {

// Every hash in this library is a 32-byte std::string of raw SHA-256 output.
inline constexpr size_t kHashSize = 32;

// SHA-256(0x00 || leaf).
std::string LeafHash(std::string_view leaf);
// SHA-256(0x01 || left || right), where left and right are child hashes.
std::string NodeHash(std::string_view left, std::string_view right);
// SHA-256(""): the root of the tree with no leaves.
std::string EmptyRoot();

}  // namespace infoflyt::merkle
