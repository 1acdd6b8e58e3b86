#include "log_verify.h"

#include <memory>
#include <vector>

#include "merkle/compact_range.h"
#include "merkle/merkle_hash.h"
#include "merkle/proof.h"
#include "merkle/record_leaf.h"

namespace infoflyt::client {
namespace {

VerifyResult Fail(std::string message, std::optional<uint64_t> bad_index = std::nullopt) {
  VerifyResult r;
  r.message = std::move(message);
  r.first_bad_index = bad_index;
  return r;
}

std::string Str(uint64_t n) { return std::to_string(n); }

// Like VerifyCheckpointNote, with the note's role ("checkpoint", "earlier checkpoint") in the
// message.
bool OpenNote(std::string_view note, const merkle::NoteVerifier& verifier, const char* what,
              merkle::Checkpoint* checkpoint, std::string* error) {
  std::string text;
  if (Status s = verifier.VerifyNote(note, &text); !s.ok()) {
    *error = std::string(what) + ": not validly signed by the log key " + verifier.name() + ": " +
             s.message();
    return false;
  }
  if (Status s = merkle::Checkpoint::Parse(text, checkpoint); !s.ok()) {
    *error = std::string(what) + ": signed, but not a checkpoint: " + s.message();
    return false;
  }
  return true;
}

bool MakeVerifier(std::string_view verifier_key, std::unique_ptr<merkle::NoteVerifier>* out,
                  std::string* error) {
  if (Status s = merkle::NoteVerifier::FromVerifierKey(verifier_key, out); !s.ok()) {
    *error = "verifier key: " + s.message();
    return false;
  }
  return true;
}

// The answer's unsigned copies of size and root must agree with its signed note: a server that
// says one thing in the fields and signs another is not to be believed about either.
bool MatchesNote(const v1::SignedCheckpoint& answer, const merkle::Checkpoint& signed_checkpoint,
                 const char* what, std::string* error) {
  if (answer.tree_size() != signed_checkpoint.size ||
      answer.root_hash() != signed_checkpoint.root) {
    *error = std::string(what) + ": tree_size/root_hash (" + Str(answer.tree_size()) + ", " +
             Hex(answer.root_hash()) + ") differ from the signed note's (" +
             Str(signed_checkpoint.size) + ", " + Hex(signed_checkpoint.root) + ")";
    return false;
  }
  return true;
}

}  // namespace

std::string LeafBytes(const v1::DisclosureRecord& record) {
  // The daemon's own encoder, so that what is checked is byte for byte what was appended.
  return merkle::RecordLeafBytes(record);
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xf];
  }
  return out;
}

Status VerifyCheckpointNote(std::string_view note, std::string_view verifier_key,
                            merkle::Checkpoint* checkpoint) {
  std::unique_ptr<merkle::NoteVerifier> verifier;
  if (Status s = merkle::NoteVerifier::FromVerifierKey(verifier_key, &verifier); !s.ok()) {
    return {s.code(), "verifier key: " + s.message()};
  }
  std::string text;
  if (Status s = verifier->VerifyNote(note, &text); !s.ok()) {
    return {s.code(), "checkpoint not validly signed by " + verifier->name() + ": " + s.message()};
  }
  if (Status s = merkle::Checkpoint::Parse(text, checkpoint); !s.ok()) {
    return {s.code(), "signed, but not a checkpoint: " + s.message()};
  }
  return Status::Ok();
}

VerifyResult VerifyLog(std::span<const v1::LogEntry> entries, std::string_view checkpoint_note,
                       std::string_view verifier_key,
                       std::optional<std::string_view> previous_note) {
  const uint64_t n = entries.size();
  auto fail = [n](std::string message, std::optional<uint64_t> bad = std::nullopt,
                  uint64_t tree_size = 0) {
    VerifyResult r = Fail(std::move(message), bad);
    r.entries = n;
    r.tree_size = tree_size;
    return r;
  };

  // a. The signed checkpoints.
  std::string error;
  std::unique_ptr<merkle::NoteVerifier> verifier;
  if (!MakeVerifier(verifier_key, &verifier, &error)) return fail(error);
  merkle::Checkpoint checkpoint;
  if (!OpenNote(checkpoint_note, *verifier, "checkpoint", &checkpoint, &error)) return fail(error);
  const uint64_t size = checkpoint.size;
  std::optional<merkle::Checkpoint> earlier;
  if (previous_note) {
    earlier.emplace();
    if (!OpenNote(*previous_note, *verifier, "earlier checkpoint", &*earlier, &error)) {
      return fail(error, std::nullopt, size);
    }
  }

  // b. Contiguous from 0 and long enough. A missing, repeated or reordered entry shows as the
  // first position whose record is not the one expected there.
  for (uint64_t i = 0; i < n; ++i) {
    if (!entries[i].has_record()) return fail("entry " + Str(i) + ": has no record", i, size);
    const uint64_t index = entries[i].record().index();
    if (index != i) {
      return fail("entry " + Str(i) + ": is record " + Str(index) +
                      " (entries must be the log from index 0, in order: one is missing, "
                      "repeated or out of place)",
                  i, size);
    }
  }
  if (n < size) {
    return fail("log truncated: " + Str(n) + " entries, checkpoint covers " + Str(size),
                std::nullopt, size);
  }

  // c. and d. Every covered record against its logged leaf, then the leaves against the root.
  merkle::CompactRange range;
  std::vector<merkle::Node> completed;
  std::optional<std::string> earlier_root;  // Our root at the earlier checkpoint's size.
  if (earlier && earlier->size == 0) earlier_root = range.Root();
  uint64_t out_of_scope = 0;
  for (uint64_t i = 0; i < size; ++i) {
    const v1::LogEntry& e = entries[i];
    // Out of the exporting auditor's scope: the stated leaf hash stands in for the record, and
    // the root shows whether it is the logged one.
    const std::string leaf =
        e.out_of_scope() ? e.leaf_hash() : merkle::LeafHash(LeafBytes(e.record()));
    if (e.out_of_scope()) {
      if (leaf.size() != 32) return fail("entry " + Str(i) + ": no leaf hash", i, size);
      v1::DisclosureRecord index_only;
      index_only.set_index(e.record().index());
      if (LeafBytes(e.record()) != LeafBytes(index_only)) {
        return fail("entry " + Str(i) + ": out of scope, yet it carries record fields", i, size);
      }
      ++out_of_scope;
    } else if (leaf != e.leaf_hash()) {
      return fail(
          "entry " + Str(i) + ": record differs from the logged leaf (changed after logging)", i,
          size);
    }
    if (Status s = range.Append(leaf, &completed); !s.ok()) {
      return fail("entry " + Str(i) + ": " + s.message(), i, size);
    }
    if (earlier && range.size() == earlier->size) earlier_root = range.Root();
  }
  if (range.Root() != checkpoint.root) {
    return fail("root mismatch at size " + Str(size) + ": the entries give " + Hex(range.Root()) +
                    ", the checkpoint signs " + Hex(checkpoint.root),
                std::nullopt, size);
  }

  // e. The earlier checkpoint is a prefix of this tree.
  std::string extra;
  if (earlier) {
    const char* kNotConsistent =
        "log is not consistent with the earlier checkpoint (truncated or forked): ";
    if (earlier->origin != checkpoint.origin) {
      return fail(std::string(kNotConsistent) + "it is of log \"" + earlier->origin +
                      "\", this checkpoint of \"" + checkpoint.origin + "\"",
                  std::nullopt, size);
    }
    if (earlier->size > size) {
      return fail(std::string(kNotConsistent) + "it covers " + Str(earlier->size) +
                      " entries, this checkpoint only " + Str(size),
                  std::nullopt, size);
    }
    if (*earlier_root != earlier->root) {
      return fail(std::string(kNotConsistent) + "at size " + Str(earlier->size) +
                      " it signed root " + Hex(earlier->root) + ", these entries give " +
                      Hex(*earlier_root),
                  std::nullopt, size);
    }
    extra = "; consistent with the earlier checkpoint at size " + Str(earlier->size);
  }
  if (out_of_scope > 0) {
    extra += "; " + Str(out_of_scope) +
             " out of this auditor's scope were checked by their leaf hash only";
  }
  if (n > size) {
    extra += "; " + Str(n - size) + " entries after the checkpoint are not covered by it";
  }
  VerifyResult ok;
  ok.ok = true;
  ok.entries = n;
  ok.tree_size = size;
  ok.message = "ok: " + Str(size) + " entries match the checkpoint of " + checkpoint.origin +
               " at size " + Str(size) + ", root " + Hex(checkpoint.root) + extra;
  return ok;
}

VerifyResult VerifyInclusionAnswer(const v1::InclusionProof& answer,
                                   std::string_view verifier_key) {
  std::string error;
  std::unique_ptr<merkle::NoteVerifier> verifier;
  if (!MakeVerifier(verifier_key, &verifier, &error)) return Fail(error);
  merkle::Checkpoint checkpoint;
  if (!OpenNote(answer.checkpoint().note(), *verifier, "checkpoint", &checkpoint, &error) ||
      !MatchesNote(answer.checkpoint(), checkpoint, "checkpoint", &error)) {
    return Fail(error);
  }
  const uint64_t index = answer.record().index();
  auto fail = [&](std::string message, std::optional<uint64_t> bad = std::nullopt) {
    VerifyResult r = Fail(std::move(message), bad);
    r.tree_size = checkpoint.size;
    return r;
  };
  if (!answer.has_record()) return fail("the answer has no record");
  // Out of the auditor's scope: the leaf alone is proven.
  const std::string leaf =
      answer.out_of_scope() ? answer.leaf_hash() : merkle::LeafHash(LeafBytes(answer.record()));
  if (!answer.out_of_scope() && leaf != answer.leaf_hash()) {
    return fail("record " + Str(index) + ": differs from the logged leaf (changed after logging)",
                index);
  }
  if (!answer.leaf().empty() && answer.leaf() != LeafBytes(answer.record())) {
    return fail("record " + Str(index) + ": the answer's leaf bytes are not the record's encoding",
                index);
  }
  const std::vector<std::string> path(answer.hashes().begin(), answer.hashes().end());
  if (Status s = merkle::VerifyInclusion(leaf, index, checkpoint.size, path, checkpoint.root);
      !s.ok()) {
    return fail("record " + Str(index) + " is not proven to be in the tree of size " +
                    Str(checkpoint.size) + ": " + s.message(),
                index);
  }
  VerifyResult ok;
  ok.ok = true;
  ok.tree_size = checkpoint.size;
  ok.message = "ok: record " + Str(index) +
               (answer.out_of_scope() ? " (out of scope: its leaf)" : "") + " is leaf " +
               Str(index) + " of the checkpoint of " + checkpoint.origin + " at size " +
               Str(checkpoint.size) + ", root " + Hex(checkpoint.root);
  return ok;
}

VerifyResult VerifyConsistencyAnswer(const v1::ConsistencyProof& answer,
                                     std::string_view verifier_key,
                                     std::optional<std::string_view> kept_note) {
  std::string error;
  std::unique_ptr<merkle::NoteVerifier> verifier;
  if (!MakeVerifier(verifier_key, &verifier, &error)) return Fail(error);
  merkle::Checkpoint from;
  merkle::Checkpoint to;
  if (!OpenNote(answer.to().note(), *verifier, "later checkpoint", &to, &error) ||
      !MatchesNote(answer.to(), to, "later checkpoint", &error)) {
    return Fail(error);
  }
  if (answer.has_from()) {
    if (!OpenNote(answer.from().note(), *verifier, "earlier checkpoint", &from, &error) ||
        !MatchesNote(answer.from(), from, "earlier checkpoint", &error)) {
      return Fail(error);
    }
  } else {
    // From size 0 there is no checkpoint to send: every log extends the empty tree.
    from = {to.origin, 0, merkle::EmptyRoot(), {}};
  }
  auto fail = [&](std::string message) {
    VerifyResult r = Fail(std::move(message));
    r.tree_size = to.size;
    return r;
  };
  if (kept_note) {
    merkle::Checkpoint kept;
    if (!OpenNote(*kept_note, *verifier, "kept checkpoint", &kept, &error)) return fail(error);
    if (kept.origin != from.origin || kept.size != from.size || kept.root != from.root) {
      return fail("the proof starts from checkpoint (" + from.origin + ", " + Str(from.size) +
                  ", " + Hex(from.root) + "), not the kept one (" + kept.origin + ", " +
                  Str(kept.size) + ", " + Hex(kept.root) + ")");
    }
  }
  if (from.origin != to.origin) {
    return fail("the checkpoints are of different logs: \"" + from.origin + "\" and \"" +
                to.origin + "\"");
  }
  if (from.size > to.size) {
    return fail(
        "log is not consistent with the earlier checkpoint (truncated or forked): it "
        "covers " +
        Str(from.size) + " entries, the later one only " + Str(to.size));
  }
  const std::vector<std::string> proof(answer.hashes().begin(), answer.hashes().end());
  if (Status s = merkle::VerifyConsistency(from.size, to.size, proof, from.root, to.root);
      !s.ok()) {
    return fail("log is not consistent with the earlier checkpoint (truncated or forked): " +
                s.message());
  }
  VerifyResult ok;
  ok.ok = true;
  ok.tree_size = to.size;
  ok.message = "ok: the log of " + to.origin + " at size " + Str(to.size) + " (root " +
               Hex(to.root) + ") extends its checkpoint at size " + Str(from.size) + " (root " +
               Hex(from.root) + ")";
  return ok;
}

}  // namespace infoflyt::client
