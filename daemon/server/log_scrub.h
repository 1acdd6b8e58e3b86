// The scrub: the stored disclosure log checked against itself, so that a record changed on disk
// (a bad disk, or someone editing the database file) is noticed by the daemon, not only by an
// auditor's offline verification.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "merkle/signed_note.h"
#include "store/store.h"

namespace infoflyt {

struct ScrubReport {
  uint64_t records = 0;  // Records checked: the whole log.
  // Records whose leaf, recomputed from the record as stored, differs from the leaf hash stored
  // when it was appended (the first kMaxListed, in index order), and how many in all.
  std::vector<uint64_t> changed;
  uint64_t changed_count = 0;
  // The latest checkpoint's size (0: none yet) and whether the tree of the recomputed leaves
  // has the root it signed (in its signed note, verified: not the stored root column).
  uint64_t checkpoint_size = 0;
  bool checkpoint_matches = true;
  std::string checkpoint_problem;  // Why its note is not a good signature of its size, if not.

  bool ok() const { return changed_count == 0 && checkpoint_matches; }
  // One line for operators: what is wrong, naming records by index (never their content).
  std::string Problem() const;
};

inline constexpr size_t kMaxListed = 20;

// Reads the whole log in order from `store` (a read at a time, off any callback thread) and
// checks it, the checkpoint's note against the log's key `verifier`. A failed read is
// returned; a mismatch is in `out`.
Status ScrubLog(Store& store, const merkle::NoteVerifier& verifier, ScrubReport* out);

}  // namespace infoflyt
