#include "receipt_command.h"

#include <iostream>

#include "file_io.h"
#include "log_file.h"
#include "merkle/record_leaf.h"
#include "receipt_verify.h"

namespace infoflyt::cli {
namespace {

int CannotRead(const std::string& path, Format format) {
  return ReportError({grpc::StatusCode::NOT_FOUND, "cannot read " + path}, format);
}

void PrintProven(const client::ReceiptVerifyResult& r, Format format) {
  if (format == Format::kJson) {
    std::cout << "{\"ok\":true,\"origin\":" << JsonQuote(r.origin)
              << ",\"tree_size\":" << r.tree_size << ",\"root\":\"" << r.root_hex
              << "\",\"recipients\":[";
    for (size_t i = 0; i < r.receipts.size(); ++i) {
      const client::ProvenReceipt& p = r.receipts[i];
      std::cout << (i ? "," : "") << "{\"party\":" << JsonQuote(p.recipient)
                << ",\"message_id\":" << JsonQuote(p.message_id)
                << ",\"disclosed_at\":" << JsonQuote(p.disclosed_at)
                << ",\"disclosure_index\":" << p.disclosure_index
                << ",\"acknowledgement_in_evidence\":" << (p.acknowledged ? "true" : "false");
      if (p.acknowledged) {
        std::cout << ",\"acknowledged_at\":" << JsonQuote(p.acknowledged_at)
                  << ",\"acknowledgement_index\":" << p.acknowledgement_index;
      }
      std::cout << "}";
    }
    std::cout << "]}" << std::endl;
    return;
  }
  const std::string proven =
      ", proven against checkpoint size " + std::to_string(r.tree_size) + ", root " + r.root_hex;
  for (const client::ProvenReceipt& p : r.receipts) {
    if (p.acknowledged) {
      std::cout << p.recipient << " acknowledged message " << p.message_id << " at "
                << p.acknowledged_at << " (delivered " << p.disclosed_at << ")" << proven << "\n";
    } else {
      std::cout << p.recipient << " was delivered message " << p.message_id << " at "
                << p.disclosed_at << proven
                << "; no acknowledgement in this evidence (its absence is not proven)\n";
    }
  }
  std::cout << "checkpoint of " << r.origin
            << "; the evidence proves what it holds, not that nothing was left out" << std::endl;
}

}  // namespace

int SaveReceiptEvidence(client::ExchangeClient& client, const std::string& message_id,
                        const std::string& path, Format format) {
  v1::ReceiptEvidence evidence;
  if (grpc::Status s = client.GetReceiptEvidence(message_id, &evidence); !s.ok()) {
    return ReportError(s, format);
  }
  // Saved only as what verify-receipt can check.
  if (client::HasUnknownFields(evidence)) {
    std::cerr << "infoflyt: the evidence holds fields this infoflyt does not know (the daemon is "
                 "newer): upgrade infoflyt to save it\n";
    return kExitDataErr;
  }
  if (!WriteFile(path, merkle::DeterministicBytes(evidence))) {
    std::cerr << "infoflyt: cannot write " << path << "\n";
    return kExitIoErr;
  }
  if (format != Format::kJson) {
    std::cout << "saved evidence for " << evidence.recipients_size() << " recipient(s) to " << path
              << "; check it with `infoflyt audit verify-receipt " << path
              << " --key <the log's key>`" << std::endl;
  }
  return kExitOk;
}

int VerifyReceiptFile(const std::string& path, const std::string& key_file, Format format) {
  std::string bytes;
  std::string key;
  if (!ReadFile(path, &bytes)) return CannotRead(path, format);
  if (!ReadKeyFile(key_file, &key)) return CannotRead(key_file, format);
  const client::ReceiptVerifyResult r = client::VerifyReceiptEvidence(bytes, key);
  if (!r.ok) {
    if (format == Format::kJson) {
      std::cout << "{\"ok\":false,\"message\":" << JsonQuote(r.message) << "}" << std::endl;
    } else {
      std::cerr << "infoflyt: verification failed: " << path << ": " << r.message << "\n";
    }
    return kExitDataErr;
  }
  PrintProven(r, format);
  return kExitOk;
}

}  // namespace infoflyt::cli
