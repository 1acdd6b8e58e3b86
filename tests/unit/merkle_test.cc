#include <gtest/gtest.h>

#include <span>
#include <string>
#include <vector>

#include "base/crypto.h"
#include "merkle/compact_range.h"
#include "merkle/memory_node_store.h"
#include "merkle/merkle_hash.h"
#include "merkle/proof.h"

namespace infoflyt::merkle {
namespace {

using Hashes = std::vector<std::string>;
using Leaves = std::span<const std::string>;

std::string FromHex(std::string_view hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// The reference: RFC 9162 §2.1.1 MTH, §2.1.3.1 PATH and §2.1.4.1 PROOF / SUBPROOF, transcribed
// recursively over the leaf data with plain SHA-256, sharing nothing with the library.

// The largest power of two smaller than n, for n > 1.
size_t RefSplit(size_t n) {
  size_t k = 1;
  while (2 * k < n) k *= 2;
  return k;
}

std::string RefMth(Leaves d) {
  if (d.empty()) return Sha256("");
  if (d.size() == 1) return Sha256(std::string(1, '\x00') + d[0]);
  const size_t k = RefSplit(d.size());
  return Sha256(std::string(1, '\x01') + RefMth(d.first(k)) + RefMth(d.subspan(k)));
}

Hashes RefPath(size_t m, Leaves d) {
  if (d.size() <= 1) return {};
  const size_t k = RefSplit(d.size());
  Hashes path;
  if (m < k) {
    path = RefPath(m, d.first(k));
    path.push_back(RefMth(d.subspan(k)));
  } else {
    path = RefPath(m - k, d.subspan(k));
    path.push_back(RefMth(d.first(k)));
  }
  return path;
}

Hashes RefSubproof(size_t m, Leaves d, bool b) {
  const size_t n = d.size();
  if (m == n) return b ? Hashes{} : Hashes{RefMth(d)};
  const size_t k = RefSplit(n);
  Hashes proof;
  if (m <= k) {
    proof = RefSubproof(m, d.first(k), b);
    proof.push_back(RefMth(d.subspan(k)));
  } else {
    proof = RefSubproof(m - k, d.subspan(k), false);
    proof.push_back(RefMth(d.first(k)));
  }
  return proof;
}

// PROOF(m, D[n]) for 0 < m < n; the library's documented empty proof otherwise.
Hashes RefProof(size_t m, Leaves d) {
  if (m == 0 || m == d.size()) return {};
  return RefSubproof(m, d, true);
}

// ---------------------------------------------------------------------------------------------

// The leaves of the RFC 6962 test vectors (as used by transparency-dev/merkle).
const char* const kVectorLeaves[] = {"",
                                     "00",
                                     "10",
                                     "2021",
                                     "3031",
                                     "40414243",
                                     "5051525354555657",
                                     "606162636465666768696a6b6c6d6e6f"};
const char* const kVectorRoots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

constexpr uint64_t kMaxSize = 64;

// A log of kMaxSize leaves (the 8 vector leaves, then distinct made-up ones) built by appending,
// with the root the compact range reported at every size.
class MerkleTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* hex : kVectorLeaves) leaves_.push_back(FromHex(hex));
    while (leaves_.size() < kMaxSize) leaves_.push_back("leaf " + std::to_string(leaves_.size()));
    CompactRange range;
    roots_.push_back(range.Root());
    std::vector<Node> completed;
    for (const std::string& leaf : leaves_) {
      ASSERT_TRUE(range.Append(LeafHash(leaf), &completed).ok());
      ASSERT_TRUE(store_.Put(completed).ok());
      roots_.push_back(range.Root());
    }
  }

  Leaves Prefix(uint64_t size) const { return Leaves(leaves_).first(size); }

  std::vector<std::string> leaves_;
  MemoryNodeStore store_;
  Hashes roots_;  // roots_[n]: root at size n.
};

std::string FlipBit(std::string s, size_t bit) {
  s[bit / 8] = static_cast<char>(s[bit / 8] ^ (1 << (bit % 8)));
  return s;
}

// Every bit of a hash for small trees; for larger ones one bit per byte, at a position that
// moves from byte to byte (the hashing does not care which bit it is; this keeps the test fast).
std::vector<size_t> BitsToFlip(uint64_t tree_size, size_t salt) {
  std::vector<size_t> bits;
  for (size_t byte = 0; byte < kHashSize; ++byte) {
    if (tree_size <= 16) {
      for (size_t bit = 0; bit < 8; ++bit) bits.push_back(8 * byte + bit);
    } else {
      bits.push_back(8 * byte + (byte + salt) % 8);
    }
  }
  return bits;
}

TEST(MerkleHashTest, HashesFollowRfc9162) {
  EXPECT_EQ(ToHex(EmptyRoot()), kVectorRoots[0]);
  EXPECT_EQ(ToHex(LeafHash("")), kVectorRoots[1]);
  EXPECT_EQ(LeafHash("abc"), Sha256(std::string("\x00", 1) + "abc"));
  const std::string left = Sha256("l");
  const std::string right = Sha256("r");
  EXPECT_EQ(NodeHash(left, right), Sha256("\x01" + left + right));
}

TEST_F(MerkleTreeTest, RootsMatchTheRfc6962TestVectors) {
  for (uint64_t n = 0; n <= 8; ++n) {
    EXPECT_EQ(ToHex(roots_[n]), kVectorRoots[n]) << "size " << n;
    EXPECT_EQ(ToHex(RefMth(Prefix(n))), kVectorRoots[n]) << "size " << n;
  }
}

TEST_F(MerkleTreeTest, RootsAtEverySizeMatchTheReferenceAndTheStore) {
  for (uint64_t n = 0; n <= kMaxSize; ++n) {
    EXPECT_EQ(roots_[n], RefMth(Prefix(n))) << "size " << n;
    std::string root;
    ASSERT_TRUE(SubtreeHash(store_, 0, n, &root).ok());
    EXPECT_EQ(root, roots_[n]) << "size " << n;
  }
}

TEST_F(MerkleTreeTest, AppendReportsTheLeafAndEveryCompletedParent) {
  CompactRange range;
  std::vector<Node> completed;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(range.Append(LeafHash(leaves_[i]), &completed).ok());
  EXPECT_EQ(range.hashes().size(), 2u);  // Leaves [0, 2) and [2, 3).
  ASSERT_TRUE(range.Append(LeafHash(leaves_[3]), &completed).ok());
  ASSERT_EQ(completed.size(), 3u);
  EXPECT_EQ(completed[0].id, (NodeId{0, 3}));
  EXPECT_EQ(completed[0].hash, LeafHash(leaves_[3]));
  EXPECT_EQ(completed[1].id, (NodeId{1, 1}));
  EXPECT_EQ(completed[1].hash, RefMth(Leaves(leaves_).subspan(2, 2)));
  EXPECT_EQ(completed[2].id, (NodeId{2, 0}));
  EXPECT_EQ(completed[2].hash, RefMth(Prefix(4)));
  EXPECT_EQ(range.hashes(), Hashes{completed[2].hash});
  EXPECT_EQ(range.size(), 4u);

  ASSERT_TRUE(range.Append(LeafHash(leaves_[4]), &completed).ok());
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_EQ(completed[0].id, (NodeId{0, 4}));
}

TEST_F(MerkleTreeTest, AppendRejectsAHashOfTheWrongSize) {
  CompactRange range;
  std::vector<Node> completed;
  const Status status = range.Append("short", &completed);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(range.size(), 0u);
  EXPECT_EQ(range.Root(), EmptyRoot());
}

TEST_F(MerkleTreeTest, CompactRangeRebuiltFromTheStoreMatchesTheIncrementalOne) {
  CompactRange incremental;
  std::vector<Node> completed;
  for (uint64_t n = 0; n <= kMaxSize; ++n) {
    CompactRange rebuilt;
    ASSERT_TRUE(CompactRange::FromReader(store_, n, &rebuilt).ok()) << "size " << n;
    EXPECT_EQ(rebuilt.size(), n);
    EXPECT_EQ(rebuilt.hashes(), incremental.hashes()) << "size " << n;
    EXPECT_EQ(rebuilt.Root(), roots_[n]) << "size " << n;
    if (n == kMaxSize) break;
    // Both go on identically.
    std::vector<Node> rebuilt_completed;
    ASSERT_TRUE(incremental.Append(LeafHash(leaves_[n]), &completed).ok());
    ASSERT_TRUE(rebuilt.Append(LeafHash(leaves_[n]), &rebuilt_completed).ok());
    ASSERT_EQ(rebuilt_completed.size(), completed.size());
    for (size_t i = 0; i < completed.size(); ++i) {
      EXPECT_EQ(rebuilt_completed[i].id, completed[i].id);
      EXPECT_EQ(rebuilt_completed[i].hash, completed[i].hash);
    }
    EXPECT_EQ(rebuilt.Root(), roots_[n + 1]);
  }
  CompactRange too_big;
  EXPECT_EQ(CompactRange::FromReader(store_, kMaxSize + 1, &too_big).code(), Code::kNotFound);
}

TEST_F(MerkleTreeTest, SubtreeHashCoversEveryAlignedRangeAndRejectsOthers) {
  for (uint64_t begin = 0; begin < kMaxSize; ++begin) {
    for (uint64_t end = begin + 1; end <= kMaxSize; ++end) {
      uint64_t largest_power = 1;
      while (largest_power * 2 <= end - begin) largest_power *= 2;
      std::string hash;
      const Status status = SubtreeHash(store_, begin, end, &hash);
      if (begin % largest_power == 0) {
        ASSERT_TRUE(status.ok()) << begin << ".." << end << ": " << status.message();
        EXPECT_EQ(hash, RefMth(Leaves(leaves_).subspan(begin, end - begin)));
      } else {
        EXPECT_EQ(status.code(), Code::kInvalidArgument) << begin << ".." << end;
      }
    }
  }
  std::string hash;
  EXPECT_EQ(SubtreeHash(store_, 3, 3, &hash).code(), Code::kInvalidArgument);
  EXPECT_EQ(SubtreeHash(store_, 5, 4, &hash).code(), Code::kInvalidArgument);
  EXPECT_EQ(SubtreeHash(store_, 64, 65, &hash).code(), Code::kNotFound);
  EXPECT_EQ(SubtreeHash(store_, 0, 65, &hash).code(), Code::kNotFound);
}

// transparency-dev/merkle's RFC 6962 proof vectors over the 8 vector leaves.
TEST_F(MerkleTreeTest, ProofsMatchKnownVectors) {
  struct Vector {
    uint64_t a, b;  // Leaf index and size, or old and new size.
    std::vector<const char*> proof;
  };
  const std::vector<Vector> inclusion = {
      {0,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {5,
       8,
       {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
      {1,
       5,
       {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
      {0, 1, {}},
  };
  const std::vector<Vector> consistency = {
      {1, 1, {}},
      {1,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {6,
       8,
       {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2,
       5,
       {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
      {6,
       7,
       {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
  };
  auto hex = [](const Hashes& hashes) {
    std::vector<std::string> out;
    for (const std::string& h : hashes) out.push_back(ToHex(h));
    return out;
  };
  for (const Vector& v : inclusion) {
    Hashes proof;
    ASSERT_TRUE(InclusionProof(store_, v.a, v.b, &proof).ok());
    EXPECT_EQ(hex(proof), std::vector<std::string>(v.proof.begin(), v.proof.end()))
        << "leaf " << v.a << " of " << v.b;
    EXPECT_TRUE(VerifyInclusion(LeafHash(leaves_[v.a]), v.a, v.b, proof, roots_[v.b]).ok());
  }
  for (const Vector& v : consistency) {
    Hashes proof;
    ASSERT_TRUE(ConsistencyProof(store_, v.a, v.b, &proof).ok());
    EXPECT_EQ(hex(proof), std::vector<std::string>(v.proof.begin(), v.proof.end()))
        << v.a << " to " << v.b;
    EXPECT_TRUE(VerifyConsistency(v.a, v.b, proof, roots_[v.a], roots_[v.b]).ok());
  }
}

TEST_F(MerkleTreeTest, InclusionProofsForEveryLeafOfEverySizeUpTo64) {
  for (uint64_t n = 1; n <= kMaxSize; ++n) {
    for (uint64_t i = 0; i < n; ++i) {
      SCOPED_TRACE("leaf " + std::to_string(i) + " of " + std::to_string(n));
      Hashes proof;
      ASSERT_TRUE(InclusionProof(store_, i, n, &proof).ok());
      ASSERT_EQ(proof, RefPath(i, Prefix(n)));
      const std::string leaf = LeafHash(leaves_[i]);
      const std::string& root = roots_[n];
      ASSERT_TRUE(VerifyInclusion(leaf, i, n, proof, root).ok());

      size_t salt = 0;
      for (size_t bit : BitsToFlip(n, salt++)) {
        EXPECT_FALSE(VerifyInclusion(FlipBit(leaf, bit), i, n, proof, root).ok());
        EXPECT_FALSE(VerifyInclusion(leaf, i, n, proof, FlipBit(root, bit)).ok());
      }
      for (size_t k = 0; k < proof.size(); ++k) {
        for (size_t bit : BitsToFlip(n, salt++)) {
          Hashes bad = proof;
          bad[k] = FlipBit(bad[k], bit);
          EXPECT_FALSE(VerifyInclusion(leaf, i, n, bad, root).ok()) << "hash " << k;
        }
      }
      for (uint64_t other = 0; other <= n + 1; ++other) {
        if (other == i) continue;
        EXPECT_FALSE(VerifyInclusion(leaf, other, n, proof, root).ok()) << "index " << other;
      }
      // Claiming another size (with that size's root) fails too.
      for (uint64_t other = 0; other <= kMaxSize; ++other) {
        if (other == n) continue;
        const std::string& other_root = roots_[other];
        EXPECT_FALSE(VerifyInclusion(leaf, i, other, proof, other_root).ok()) << "size " << other;
      }

      Hashes longer = proof;
      longer.push_back(proof.empty() ? leaf : proof.back());
      EXPECT_FALSE(VerifyInclusion(leaf, i, n, longer, root).ok());
      if (!proof.empty()) {
        EXPECT_FALSE(
            VerifyInclusion(leaf, i, n, Hashes(proof.begin() + 1, proof.end()), root).ok());
        EXPECT_FALSE(
            VerifyInclusion(leaf, i, n, Hashes(proof.begin(), proof.end() - 1), root).ok());
      }
    }
  }
}

TEST_F(MerkleTreeTest, ConsistencyProofsForEveryPairOfSizesUpTo64) {
  for (uint64_t n = 0; n <= kMaxSize; ++n) {
    for (uint64_t m = 0; m <= n; ++m) {
      SCOPED_TRACE("from " + std::to_string(m) + " to " + std::to_string(n));
      Hashes proof;
      ASSERT_TRUE(ConsistencyProof(store_, m, n, &proof).ok());
      ASSERT_EQ(proof, RefProof(m, Prefix(n)));
      const std::string& root1 = roots_[m];
      const std::string& root2 = roots_[n];
      ASSERT_TRUE(VerifyConsistency(m, n, proof, root1, root2).ok());

      size_t salt = 0;
      for (size_t bit : BitsToFlip(n, salt++)) {
        EXPECT_FALSE(VerifyConsistency(m, n, proof, FlipBit(root1, bit), root2).ok());
        // Every tree extends the empty one: nothing binds the new root then.
        if (m != 0) {
          EXPECT_FALSE(VerifyConsistency(m, n, proof, root1, FlipBit(root2, bit)).ok());
        }
      }
      for (size_t k = 0; k < proof.size(); ++k) {
        for (size_t bit : BitsToFlip(n, salt++)) {
          Hashes bad = proof;
          bad[k] = FlipBit(bad[k], bit);
          EXPECT_FALSE(VerifyConsistency(m, n, bad, root1, root2).ok()) << "hash " << k;
        }
      }
      // Claiming other sizes, with their roots, fails, except where the empty proof is right.
      auto expect_fails_as = [&](uint64_t m2, uint64_t n2) {
        if (m2 == m && n2 == n) return;
        if (proof.empty() && (m2 == 0 || m2 == n2)) return;
        EXPECT_FALSE(VerifyConsistency(m2, n2, proof, roots_[m2], roots_[n2]).ok())
            << "as " << m2 << " to " << n2;
      };
      for (uint64_t other = 0; other <= n; ++other) expect_fails_as(other, n);
      for (uint64_t other = m; other <= kMaxSize; ++other) expect_fails_as(m, other);
      EXPECT_FALSE(VerifyConsistency(n + 1, n, proof, root1, root2).ok());

      Hashes longer = proof;
      longer.push_back(proof.empty() ? root1 : proof.back());
      EXPECT_FALSE(VerifyConsistency(m, n, longer, root1, root2).ok());
      if (!proof.empty()) {
        EXPECT_FALSE(
            VerifyConsistency(m, n, Hashes(proof.begin() + 1, proof.end()), root1, root2).ok());
        EXPECT_FALSE(
            VerifyConsistency(m, n, Hashes(proof.begin(), proof.end() - 1), root1, root2).ok());
      }
    }
  }
}

// RFC 9162's verifier binds the tree size only through the root: leaf 4 sits at the same place
// in trees of 7 and 8 leaves, so the size-8 proof checks out "in a tree of 7" with the size-8
// root. This is why sizes come from signed checkpoints, which sign size and root together.
TEST_F(MerkleTreeTest, TheSizeIsBoundOnlyThroughTheRoot) {
  Hashes proof;
  ASSERT_TRUE(InclusionProof(store_, 4, 8, &proof).ok());
  EXPECT_TRUE(VerifyInclusion(LeafHash(leaves_[4]), 4, 7, proof, roots_[8]).ok());
  EXPECT_FALSE(VerifyInclusion(LeafHash(leaves_[4]), 4, 7, proof, roots_[7]).ok());
}

TEST_F(MerkleTreeTest, ProofRequestsOutsideTheTreeFail) {
  Hashes proof;
  EXPECT_EQ(InclusionProof(store_, 5, 5, &proof).code(), Code::kInvalidArgument);
  EXPECT_EQ(InclusionProof(store_, 0, 0, &proof).code(), Code::kInvalidArgument);
  EXPECT_EQ(InclusionProof(store_, 0, kMaxSize + 1, &proof).code(), Code::kNotFound);
  EXPECT_EQ(ConsistencyProof(store_, 6, 5, &proof).code(), Code::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(store_, 3, kMaxSize + 1, &proof).code(), Code::kNotFound);
  ASSERT_TRUE(ConsistencyProof(store_, 0, kMaxSize, &proof).ok());
  EXPECT_TRUE(proof.empty());
}

TEST_F(MerkleTreeTest, VerifiersRejectMalformedInput) {
  Hashes proof;
  ASSERT_TRUE(InclusionProof(store_, 3, 10, &proof).ok());
  const std::string leaf = LeafHash(leaves_[3]);
  Hashes short_hash = proof;
  short_hash[1].pop_back();
  Status status = VerifyInclusion(leaf, 3, 10, short_hash, roots_[10]);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(status.message(), "proof hash 1 is 31 bytes, not 32");
  EXPECT_FALSE(VerifyInclusion(leaf.substr(1), 3, 10, proof, roots_[10]).ok());
  EXPECT_FALSE(VerifyInclusion(leaf, 3, 10, proof, roots_[10] + "x").ok());
  status = VerifyInclusion(leaf, 10, 10, proof, roots_[10]);
  EXPECT_EQ(status.message(), "leaf index 10 is not below tree size 10");

  ASSERT_TRUE(ConsistencyProof(store_, 3, 10, &proof).ok());
  EXPECT_TRUE(VerifyConsistency(3, 10, proof, roots_[3], roots_[10]).ok());
  short_hash = proof;
  short_hash[0] += "x";
  EXPECT_EQ(VerifyConsistency(3, 10, short_hash, roots_[3], roots_[10]).code(),
            Code::kInvalidArgument);
  status = VerifyConsistency(3, 10, {}, roots_[3], roots_[10]);
  EXPECT_EQ(status.message(), "consistency proof is empty");
  EXPECT_FALSE(VerifyConsistency(10, 3, proof, roots_[10], roots_[3]).ok());
  // Equal sizes need equal roots; size 0 needs the empty root.
  EXPECT_FALSE(VerifyConsistency(5, 5, {}, roots_[5], roots_[6]).ok());
  EXPECT_TRUE(VerifyConsistency(0, 0, {}, EmptyRoot(), EmptyRoot()).ok());
  EXPECT_FALSE(VerifyConsistency(0, 0, {}, roots_[1], roots_[1]).ok());
  EXPECT_FALSE(VerifyConsistency(0, 5, {}, roots_[1], roots_[5]).ok());
}

TEST(MerkleNodeStoreTest, NodesAreAppendedInOrderAndNeverChange) {
  MemoryNodeStore store;
  const std::string a = LeafHash("a");
  const std::string b = LeafHash("b");
  EXPECT_TRUE(store.Put(std::vector<Node>{{{0, 0}, a}}).ok());
  EXPECT_TRUE(store.Put(std::vector<Node>{{{0, 0}, a}}).ok());  // An identical rewrite.
  EXPECT_EQ(store.Put(std::vector<Node>{{{0, 0}, b}}).code(), Code::kAlreadyExists);
  EXPECT_EQ(store.Put(std::vector<Node>{{{0, 2}, b}}).code(), Code::kFailedPrecondition);
  EXPECT_EQ(store.Put(std::vector<Node>{{{0, 1}, "short"}}).code(), Code::kInvalidArgument);
  EXPECT_EQ(store.Put(std::vector<Node>{{{64, 0}, a}}).code(), Code::kInvalidArgument);

  Hashes hashes;
  const std::vector<NodeId> ids = {{0, 0}};
  ASSERT_TRUE(store.GetNodes(ids, &hashes).ok());
  EXPECT_EQ(hashes, Hashes{a});
  const std::vector<NodeId> missing = {{0, 0}, {0, 1}};
  EXPECT_EQ(store.GetNodes(missing, &hashes).code(), Code::kNotFound);
  const std::vector<NodeId> bad_level = {{5, 0}};
  EXPECT_EQ(store.GetNodes(bad_level, &hashes).code(), Code::kNotFound);
}

}  // namespace
}  // namespace infoflyt::merkle
