#include "merkle/merkle_hash.h"

#include "base/crypto.h"

namespace infoflyt::merkle {
namespace {

// SHA-256(prefix || a || b).
std::string PrefixedHash(char prefix, std::string_view a, std::string_view b) {
  std::string input;
  input.reserve(1 + a.size() + b.size());
  input.push_back(prefix);
  input.append(a);
  input.append(b);
  return Sha256(input);
}

}  // namespace

std::string LeafHash(std::string_view leaf) { return PrefixedHash('\x00', leaf, {}); }

std::string NodeHash(std::string_view left, std::string_view right) {
  return PrefixedHash('\x01', left, right);
}

std::string EmptyRoot() { return Sha256(""); }

}  // namespace infoflyt::merkle
