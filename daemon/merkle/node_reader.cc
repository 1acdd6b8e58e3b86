#include "merkle/node_reader.h"

#include <bit>

#include "merkle/merkle_hash.h"

namespace infoflyt::merkle {
namespace {

std::string RangeText(const LeafRange& range) {
  return "[" + std::to_string(range.begin) + ", " + std::to_string(range.end) + ")";
}

// Appends the perfect subtrees that make up `range`, left to right. Per RFC 9162 §2.1.1 the
// left child of a k-leaf tree holds the largest power of two < k leaves, so the hash of a range
// is its binary decomposition (largest part first), folded from the right.
Status AppendParts(const LeafRange& range, std::vector<NodeId>* ids) {
  if (range.begin == 0 && range.end == 0) return Status::Ok();
  if (range.end <= range.begin) {
    return {Code::kInvalidArgument, "empty or inverted leaf range " + RangeText(range)};
  }
  const uint64_t size = range.end - range.begin;
  if (range.begin % std::bit_floor(size) != 0) {
    return {Code::kInvalidArgument,
            "leaf range " + RangeText(range) +
                " does not start at a multiple of the largest power of two <= its length"};
  }
  uint64_t begin = range.begin;
  for (uint64_t rest = size; rest != 0;) {
    const int level = static_cast<int>(std::bit_width(rest)) - 1;
    ids->push_back({level, begin >> level});
    begin += uint64_t{1} << level;
    rest -= uint64_t{1} << level;
  }
  return Status::Ok();
}

}  // namespace

Status SubtreeHashes(const NodeReader& reader, std::span<const LeafRange> ranges,
                     std::vector<std::string>* hashes) {
  std::vector<NodeId> ids;
  std::vector<size_t> part_counts;
  part_counts.reserve(ranges.size());
  for (const LeafRange& range : ranges) {
    const size_t before = ids.size();
    if (Status s = AppendParts(range, &ids); !s.ok()) return s;
    part_counts.push_back(ids.size() - before);
  }

  std::vector<std::string> parts;
  if (!ids.empty()) {
    if (Status s = reader.GetNodes(ids, &parts); !s.ok()) return s;
    // A broken store must not turn into a wrong root or proof.
    if (parts.size() != ids.size()) {
      return {Code::kInternal, "node reader returned " + std::to_string(parts.size()) +
                                   " hashes for " + std::to_string(ids.size()) + " nodes"};
    }
    for (const std::string& part : parts) {
      if (part.size() != kHashSize) {
        return {Code::kInternal,
                "node reader returned a hash of " + std::to_string(part.size()) + " bytes"};
      }
    }
  }

  hashes->clear();
  hashes->reserve(ranges.size());
  size_t next = 0;
  for (size_t count : part_counts) {
    if (count == 0) {
      hashes->push_back(EmptyRoot());
      continue;
    }
    const size_t last = next + count - 1;
    std::string hash = std::move(parts[last]);
    for (size_t j = last; j > next; --j) hash = NodeHash(parts[j - 1], hash);
    hashes->push_back(std::move(hash));
    next += count;
  }
  return Status::Ok();
}

Status SubtreeHash(const NodeReader& reader, uint64_t begin, uint64_t end, std::string* hash) {
  const LeafRange range{begin, end};
  std::vector<std::string> hashes;
  if (Status s = SubtreeHashes(reader, std::span(&range, 1), &hashes); !s.ok()) return s;
  *hash = std::move(hashes[0]);
  return Status::Ok();
}

}  // namespace infoflyt::merkle
