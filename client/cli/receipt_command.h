// Receipts as evidence: `infoflyt status MESSAGE_ID --evidence FILE` saves what
// GetReceiptEvidence returns; `infoflyt audit verify-receipt FILE --key KEY` checks it offline.
#pragma once

#include <string>

#include "infoflyt_client.h"
#include "output.h"

namespace infoflyt::cli {

// Fetches the evidence of `message_id` and writes its canonical encoding to `path`.
int SaveReceiptEvidence(client::ExchangeClient& client, const std::string& message_id,
                        const std::string& path, Format format);

// Verifies the evidence in `path` under the verifier key in `key_file`; 0 if it holds, 65 if
// not.
int VerifyReceiptFile(const std::string& path, const std::string& key_file, Format format);

}  // namespace infoflyt::cli
