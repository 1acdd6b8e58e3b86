// `infoflyt flag add|remove|list`.
#pragma once

#include <string>

#include "infoflyt_client.h"
#include "output.h"

namespace infoflyt::cli {

// Runs the flag subcommand that was parsed (add, remove, or else list); returns the exit code.
int RunFlagCommand(client::ExchangeClient& client, Format format, bool add, bool remove,
                   const std::string& reason, const std::string& expires,
                   v1::FlagRequest flag_request, const std::string& flag_id, bool include_inactive,
                   v1::ListFlagsRequest list_request);

}  // namespace infoflyt::cli
