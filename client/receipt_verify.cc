#include "receipt_verify.h"

#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include "log_file.h"
#include "log_verify.h"
#include "merkle/proof.h"
#include "merkle/record_leaf.h"

namespace infoflyt::client {
namespace {

using google::protobuf::util::TimeUtil;

ReceiptVerifyResult Fail(std::string message) {
  ReceiptVerifyResult r;
  r.message = std::move(message);
  return r;
}

std::string Str(uint64_t n) { return std::to_string(n); }

// Empty if `proven` is a leaf of `checkpoint` with the given event and outcome, else why not.
std::string CheckProven(const v1::ProvenRecord& proven, const merkle::Checkpoint& checkpoint,
                        std::initializer_list<std::string_view> events, const char* outcome) {
  const v1::DisclosureRecord& r = proven.record();
  const std::string what = std::string(*events.begin()) + " record " + Str(r.index());
  if (!proven.has_record()) return "a " + std::string(*events.begin()) + " entry has no record";
  if (std::find(events.begin(), events.end(), r.event()) == events.end() ||
      r.outcome() != outcome) {
    return what + ": event/outcome are " + r.event() + "/" + r.outcome();
  }
  const std::vector<std::string> path(proven.inclusion_proof().begin(),
                                      proven.inclusion_proof().end());
  if (Status s = merkle::VerifyInclusion(merkle::RecordLeafHash(r), r.index(), checkpoint.size,
                                         path, checkpoint.root);
      !s.ok()) {
    return what + " is not proven to be in the tree of size " + Str(checkpoint.size) + ": " +
           s.message();
  }
  return "";
}

// Empty if `ack` acknowledges exactly the delivery `disclosure` records, else why not.
std::string CheckPairing(const v1::DisclosureRecord& disclosure, const v1::DisclosureRecord& ack) {
  const std::string what = "acknowledge record " + Str(ack.index());
  if (ack.delivery_id() != disclosure.delivery_id() ||
      ack.reason() != "acknowledges record " + Str(disclosure.index())) {
    return what + " is not of the delivery in disclosure record " + Str(disclosure.index());
  }
  if (ack.sender() != disclosure.recipient()) {
    return what + " is by " + ack.sender() + ", not the recipient " + disclosure.recipient();
  }
  const std::string& owner =
      disclosure.on_behalf_of().empty() ? disclosure.sender() : disclosure.on_behalf_of();
  if (ack.recipient() != owner || ack.on_behalf_of() != disclosure.on_behalf_of()) {
    return what + " is evidence for " + ack.recipient() + ", not for " + owner;
  }
  return "";
}

}  // namespace

ReceiptVerifyResult VerifyReceiptEvidence(std::string_view bytes, std::string_view verifier_key) {
  v1::ReceiptEvidence evidence;
  // A changed file may hold invalid UTF-8, which the parser would log as well as refuse.
  const google::protobuf::LogSilencer quiet;
  if (!evidence.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Fail("not a receipt evidence file (it does not parse)");
  }
  // Canonical and complete: a byte that changed without changing what parses would otherwise
  // go unnoticed, and unknown fields are not covered by any check here.
  if (HasUnknownFields(evidence)) {
    return Fail("holds fields this infoflyt does not know (changed, or made by a newer one)");
  }
  if (merkle::DeterministicBytes(evidence) != bytes) {
    return Fail("not in canonical form (changed, or made by something else)");
  }
  merkle::Checkpoint checkpoint;
  if (Status s = VerifyCheckpointNote(evidence.checkpoint_note(), verifier_key, &checkpoint);
      !s.ok()) {
    return Fail("checkpoint: " + s.message());
  }
  // The log's key is named after the log: a checkpoint of another log under the same key is not
  // this log's.
  if (checkpoint.origin != verifier_key.substr(0, verifier_key.find('+'))) {
    return Fail("checkpoint: of log \"" + checkpoint.origin + "\", not of the key's log");
  }
  if (evidence.recipients().empty()) return Fail("the evidence names no recipient");
  ReceiptVerifyResult result;
  result.origin = checkpoint.origin;
  result.tree_size = checkpoint.size;
  result.root_hex = Hex(checkpoint.root);
  const std::string& message_id = evidence.recipients(0).disclosure().record().message_id();
  std::set<std::string> seen;
  for (const v1::RecipientEvidence& e : evidence.recipients()) {
    const v1::DisclosureRecord& d = e.disclosure().record();
    if (std::string why =
            CheckProven(e.disclosure(), checkpoint, {"disclose", "escalate"}, "disclosed");
        !why.empty()) {
      return Fail(why);
    }
    if (d.message_id() != message_id || message_id.empty()) {
      return Fail("disclosure record " + Str(d.index()) + " is of another message");
    }
    if (!seen.insert(d.recipient()).second) return Fail(d.recipient() + " appears twice");
    ProvenReceipt receipt{
        d.recipient(), message_id, TimeUtil::ToString(d.occurred_at()), d.index(), false, "", 0};
    if (e.has_acknowledgement()) {
      const v1::DisclosureRecord& a = e.acknowledgement().record();
      if (std::string why =
              CheckProven(e.acknowledgement(), checkpoint, {"acknowledge"}, "acknowledged");
          !why.empty()) {
        return Fail(why);
      }
      if (a.message_id() != message_id) {
        return Fail("acknowledge record " + Str(a.index()) + " is of another message");
      }
      if (std::string why = CheckPairing(d, a); !why.empty()) return Fail(why);
      receipt.acknowledged = true;
      receipt.acknowledged_at = TimeUtil::ToString(a.occurred_at());
      receipt.acknowledgement_index = a.index();
    }
    result.receipts.push_back(std::move(receipt));
  }
  result.ok = true;
  result.message = "ok: " + Str(result.receipts.size()) + " recipient(s) of message " + message_id +
                   ", proven against the checkpoint of " + checkpoint.origin + " at size " +
                   Str(checkpoint.size) + ", root " + result.root_hex;
  return result;
}

}  // namespace infoflyt::client
