// Valid envelopes for tests, built in one place so each test changes only what it is about.
#pragma once

#include <string>

#include "infoflyt/v1/messages.pb.h"

namespace infoflyt::testing {

// Valid under the current rule (check digits computed independently of the code under test).
inline constexpr const char* kValidFnr = "15076500565";
inline constexpr const char* kOtherValidFnr = "31129987688";

// A valid release notice about `national_id` living in `municipality`, planned in 10 days.
v1::Envelope ReleaseNotice(const std::string& idempotency_key,
                           const std::string& national_id = kValidFnr,
                           const std::string& municipality = "0301");
// A valid return notice (PST's message type), returned yesterday.
v1::Envelope ReturnNotice(const std::string& idempotency_key,
                          const std::string& national_id = kValidFnr,
                          const std::string& municipality = "0301");
// A valid case update.
v1::Envelope CaseUpdate(const std::string& idempotency_key,
                        const std::string& municipality = "0301");

}  // namespace infoflyt::testing
