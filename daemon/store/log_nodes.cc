#include "store/log_nodes.h"

#include "merkle/merkle_hash.h"

namespace infoflyt {
namespace {

constexpr int kFirstStoredInteriorLevel = 4;

}  // namespace

bool StoresLevel(int level) { return level == 0 || level >= kFirstStoredInteriorLevel; }

Status LogNodeReader::GetNodes(std::span<const merkle::NodeId> ids,
                               std::vector<std::string>* hashes) const {
  std::vector<merkle::NodeId> stored_ids;
  for (const merkle::NodeId& id : ids) {
    if (StoresLevel(id.level)) stored_ids.push_back(id);
  }
  std::vector<std::optional<std::string>> stored;
  if (!stored_ids.empty()) {
    if (Status s = stored_.Read(stored_ids, &stored); !s.ok()) return s;
    if (stored.size() != stored_ids.size()) {
      return {Code::kInternal, "log nodes: asked for " + std::to_string(stored_ids.size()) +
                                   ", got " + std::to_string(stored.size())};
    }
  }
  hashes->clear();
  size_t next_stored = 0;
  for (const merkle::NodeId& id : ids) {
    if (!StoresLevel(id.level)) {
      std::string hash;
      if (Status s = Recompute(id, &hash); !s.ok()) return s;
      hashes->push_back(std::move(hash));
      continue;
    }
    std::optional<std::string>& hash = stored[next_stored++];
    if (!hash) return {Code::kNotFound, "log node not stored"};
    hashes->push_back(std::move(*hash));
  }
  return Status::Ok();
}

Status LogNodeReader::Recompute(const merkle::NodeId& id, std::string* hash) const {
  const uint64_t width = uint64_t{1} << id.level;
  std::vector<std::string> level;
  if (Status s = stored_.ReadLeaves(id.index * width, (id.index + 1) * width, &level); !s.ok()) {
    return s;
  }
  if (level.size() != width) return {Code::kNotFound, "log node not stored"};
  for (; level.size() > 1; level.resize(level.size() / 2)) {
    for (size_t i = 0; i < level.size() / 2; ++i) {
      level[i] = merkle::NodeHash(level[2 * i], level[2 * i + 1]);
    }
  }
  *hash = std::move(level[0]);
  return Status::Ok();
}

}  // namespace infoflyt
