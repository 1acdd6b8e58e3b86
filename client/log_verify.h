// Checking the disclosure log as an auditor who trusts nothing but the log's public key: signed
// checkpoints, every record of an export against its logged leaf and the signed root, and the
// proofs the Audit service returns. Offline and gRPC-free (only protobuf messages), so an export
// can be checked on a machine that never talks to infoflytd. See proto/infoflyt/v1/audit.proto
// for the leaf format.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "infoflyt/v1/audit.pb.h"
#include "merkle/signed_note.h"

namespace infoflyt::client {

// The leaf bytes of a record: its protobuf encoding with fields in number order and default
// values omitted, i.e. protobuf's deterministic serialisation (merkle::RecordLeafBytes, the
// daemon's own). Unknown fields (a record from a newer daemon) are kept and written last, which
// is number order as long as they are numbered after every field this build knows.
std::string LeafBytes(const v1::DisclosureRecord& record);

// Lower-case hex, for printing hashes.
std::string Hex(std::string_view bytes);

// The outcome of a check: what was verified, or the first thing that failed. Messages name
// entries by log index only, never by anything a record says about a person.
struct VerifyResult {
  bool ok = false;
  std::string message;
  // Set when one entry is to blame: the lowest such index.
  std::optional<uint64_t> first_bad_index;
  uint64_t entries = 0;    // Entries examined (VerifyLog).
  uint64_t tree_size = 0;  // The checkpoint's size, once its signature has verified.
};

// Checks `note` under `verifier_key` (note verifier-key format) and parses it as a tlog
// checkpoint into *checkpoint. INVALID_ARGUMENT for a malformed key, note or checkpoint;
// UNAUTHENTICATED if the note is not signed by that key.
Status VerifyCheckpointNote(std::string_view note, std::string_view verifier_key,
                            merkle::Checkpoint* checkpoint);

// The offline audit of an export. `entries` must be the log from index 0, in order;
// `checkpoint_note` a signed checkpoint and `verifier_key` the log's key. If the auditor kept
// an earlier checkpoint, `previous_note` is it. Checks, stopping at the first failure:
//   a. both notes are signed by the key and are checkpoints;
//   b. entry i is record i for every i, and there are at least as many entries as the
//      checkpoint covers;
//   c. each covered entry's record hashes to the leaf hash the log stored with it (an entry out
//      of the exporting auditor's scope has no record to hash: its leaf hash is taken as given,
//      and d. shows whether it is the logged one);
//   d. the recomputed leaves give the checkpoint's root;
//   e. the earlier checkpoint is no larger, from the same log, and its root is that of the
//      first earlier.size recomputed leaves: the log only grew since then.
// Entries past the checkpoint are checked for (b) only: nothing signed covers them yet.
VerifyResult VerifyLog(std::span<const v1::LogEntry> entries, std::string_view checkpoint_note,
                       std::string_view verifier_key,
                       std::optional<std::string_view> previous_note = std::nullopt);

// Checks an InclusionProof answer: its checkpoint note under `verifier_key`, that the answer's
// tree_size and root_hash are the note's, that the record hashes to the stated leaf hash, and
// that the audit path leads from that leaf to the signed root. Checking that the record is the
// one asked for is the caller's job.
VerifyResult VerifyInclusionAnswer(const v1::InclusionProof& answer, std::string_view verifier_key);

// Checks a ConsistencyProof answer: both checkpoint notes under `verifier_key`, from the same
// log, and that the proof shows the later tree extends the earlier one. An answer without
// `from` is from the empty tree (from_size 0). If the auditor kept the earlier checkpoint,
// `kept_note` is it, and the answer's `from` must be at its size and root.
VerifyResult VerifyConsistencyAnswer(const v1::ConsistencyProof& answer,
                                     std::string_view verifier_key,
                                     std::optional<std::string_view> kept_note = std::nullopt);

}  // namespace infoflyt::client
