#include "server/log_scrub.h"

#include "merkle/compact_range.h"
#include "merkle/record_leaf.h"

namespace infoflyt {

std::string ScrubReport::Problem() const {
  if (ok()) return "";
  std::string p;
  if (changed_count > 0) {
    p = std::to_string(changed_count) + " disclosure records changed since they were logged:";
    for (uint64_t index : changed) p += " " + std::to_string(index);
    if (changed_count > changed.size()) p += " ...";
  }
  if (!checkpoint_matches) {
    if (!p.empty()) p += "; ";
    p += checkpoint_problem.empty()
             ? "the stored records do not give the root of the signed checkpoint of size " +
                   std::to_string(checkpoint_size)
             : checkpoint_problem;
  }
  return p;
}

namespace {

// The root `checkpoint`'s note signs for its size; empty (with `problem` set) if it signs none.
std::string SignedRoot(const StoredCheckpoint& checkpoint, const merkle::NoteVerifier& verifier,
                       std::string* problem) {
  std::string text;
  merkle::Checkpoint signed_checkpoint;
  Status s = verifier.VerifyNote(checkpoint.note, &text);
  if (s.ok()) s = merkle::Checkpoint::Parse(text, &signed_checkpoint);
  if (s.ok() && signed_checkpoint.size != checkpoint.tree_size) {
    s = {Code::kInvalidArgument, "it signs size " + std::to_string(signed_checkpoint.size)};
  }
  if (!s.ok()) {
    *problem = "the stored checkpoint of size " + std::to_string(checkpoint.tree_size) +
               " is not signed by the log's key: " + s.message();
    return "";
  }
  return signed_checkpoint.root;
}

}  // namespace

Status ScrubLog(Store& store, const merkle::NoteVerifier& verifier, ScrubReport* out) {
  constexpr size_t kBatch = 1000;
  *out = ScrubReport();
  StoredCheckpoint checkpoint;
  std::string signed_root;
  if (Status s = store.GetCheckpoint(0, &checkpoint); s.ok()) {
    out->checkpoint_size = checkpoint.tree_size;
    signed_root = SignedRoot(checkpoint, verifier, &out->checkpoint_problem);
    if (signed_root.empty()) out->checkpoint_matches = false;
  } else if (s.code() != Code::kNotFound) {
    return s;
  }
  const uint64_t size = std::max(store.LogSize(), out->checkpoint_size);
  merkle::CompactRange tree;
  std::vector<merkle::Node> ignored;
  std::vector<LogEntry> entries;
  for (uint64_t next = 0; next < size;) {
    entries.clear();
    if (Status s = store.ReadLog(next, size, kBatch, &entries); !s.ok()) return s;
    if (entries.empty()) break;
    for (const LogEntry& e : entries) {
      const std::string leaf = merkle::RecordLeafHash(e.record);
      // A record with another index than its place (one deleted or renumbered) is changed too.
      if (leaf != e.leaf_hash || e.record.index() != next) {
        if (out->changed.size() < kMaxListed) out->changed.push_back(next);
        ++out->changed_count;
      }
      if (Status s = tree.Append(leaf, &ignored); !s.ok()) return s;
      ignored.clear();
      ++next;
      if (tree.size() == out->checkpoint_size && !signed_root.empty()) {
        out->checkpoint_matches = tree.Root() == signed_root;
      }
    }
  }
  out->records = tree.size();
  if (tree.size() < out->checkpoint_size) out->checkpoint_matches = false;  // Records missing.
  return Status::Ok();
}

}  // namespace infoflyt
