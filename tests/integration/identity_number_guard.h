// Looks for personal identity numbers where the README promises there are none: daemon logs,
// the infoflyt CLI's diagnostics, /metrics. Used by TestDaemon at the end of every test.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace infoflyt::testing {

// What the guard found in `text`, one line per finding, naming `where` and the offset and
// showing the context with every digit masked (so a failing test does not print the number).
// A finding is any identity number the tests use, wherever it occurs, or any stand-alone run of
// exactly 11 digits (not part of a longer run of letters and digits, so hex hashes and UUIDs
// are not mistaken for one).
std::vector<std::string> FindIdentityNumbers(std::string_view text, std::string_view where);

// `cli_stdout` with the one place an identity number may legitimately appear blanked out: the
// `"national_id":"…"` field of a message body the CLI prints for the party it was disclosed to
// (`subscribe` shows deliveries as JSON in both output formats). Nothing else is allowed, and
// never in the CLI's stderr.
std::string WithoutDisclosedPayloadIds(const std::string& cli_stdout);

}  // namespace infoflyt::testing
