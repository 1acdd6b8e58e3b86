// Checking receipt evidence offline (what Exchange.GetReceiptEvidence returns and
// `infoflyt status --evidence` saves), trusting nothing but the log's public key: that each
// recipient's delivery, and its acknowledgement where there is one, are records of the
// disclosure log under one signed checkpoint. The AS4 non-repudiation-of-receipt idea on a
// transparency log.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "infoflyt/v1/exchange.pb.h"

namespace infoflyt::client {

// One recipient, as the evidence proves it.
struct ProvenReceipt {
  std::string recipient;
  std::string message_id;
  std::string disclosed_at;  // RFC 3339, from the disclosure record.
  uint64_t disclosure_index = 0;
  bool acknowledged = false;
  std::string acknowledged_at;  // RFC 3339, once acknowledged.
  uint64_t acknowledgement_index = 0;
};

struct ReceiptVerifyResult {
  bool ok = false;
  std::string message;  // What failed, or a summary.
  std::string origin;   // The checkpoint's, once its signature verified.
  uint64_t tree_size = 0;
  std::string root_hex;
  std::vector<ProvenReceipt> receipts;  // Set when ok.
};

// Checks `bytes`, a saved ReceiptEvidence, under `verifier_key` (note verifier-key format):
//   a. it is the canonical encoding of a ReceiptEvidence with nothing unknown in it, so no byte
//      of it goes unchecked;
//   b. its note is a checkpoint signed by the key;
//   c. every record has the event and outcome of its role, all are of one message, recipients
//      are distinct, and each acknowledgement is the recipient's, of that delivery, naming its
//      disclosure record;
//   d. every record's leaf and audit path lead to the signed root;
//   e. the checkpoint is of the key's log (its origin is the key's name).
// It proves what it holds, not what it leaves out: a recipient or acknowledgement missing from
// a file is not proven absent from the log.
ReceiptVerifyResult VerifyReceiptEvidence(std::string_view bytes, std::string_view verifier_key);

}  // namespace infoflyt::client
