#include "integration/identity_number_guard.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <regex>
#include <set>

#include "test_util.h"

namespace infoflyt::testing {
namespace {

constexpr size_t kDigits = 11;
constexpr size_t kContext = 40;

// Every 11-digit string literal in the test sources: each identity number a test posts, flags,
// queries or passes to the CLI, found by reading the sources rather than listed by hand (a list
// would go stale). Found even inside a longer token (e.g. "subject=15076500565abc"), which the
// stand-alone rule misses.
const std::vector<std::string>& TestIdentityNumbers() {
  static const std::vector<std::string> numbers = [] {
    const std::regex literal("\"([0-9]{11})\"");
    std::set<std::string> found;
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(INFOFLYT_SOURCE_DIR "/tests")) {
      const std::string ext = entry.path().extension().string();
      if (ext != ".cc" && ext != ".h") continue;
      const std::string source = ReadFile(entry.path().string());
      for (std::sregex_iterator m(source.begin(), source.end(), literal), end; m != end; ++m) {
        found.insert((*m)[1].str());
      }
    }
    return std::vector<std::string>(found.begin(), found.end());
  }();
  return numbers;
}

// Reported by the first pass already.
bool IsTestIdentityNumber(std::string_view token) {
  return std::ranges::any_of(TestIdentityNumbers(),
                             [&](const std::string& number) { return token == number; });
}

std::string MaskDigits(std::string_view text) {
  std::string masked(text);
  for (char& c : masked) {
    if (std::isdigit(static_cast<unsigned char>(c))) c = '#';
    if (c == '\n') c = ' ';
  }
  return masked;
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

std::string Finding(std::string_view text, size_t at, std::string_view where,
                    std::string_view what) {
  const size_t from = at > kContext ? at - kContext : 0;
  return std::string(what) + " in " + MaskDigits(where) + " at offset " + std::to_string(at) +
         ": ..." + MaskDigits(text.substr(from, kDigits + 2 * kContext)) + "...";
}

}  // namespace

std::vector<std::string> FindIdentityNumbers(std::string_view text, std::string_view where) {
  std::vector<std::string> found;
  for (const std::string& number : TestIdentityNumbers()) {
    for (size_t at = text.find(number); at != std::string_view::npos;
         at = text.find(number, at + 1)) {
      found.push_back(Finding(text, at, where, "an identity number the tests use"));
    }
  }
  // Runs of letters and digits; a token of exactly 11 digits is a stand-alone number. (A Unix
  // time has 10 digits until the year 2286, a millisecond time 13; the daemon logs times as RFC
  // 3339; its metrics are counts, gauges of counts and histogram sums of small integers, though
  // a fractional sample value could show 11 digits after its point. No allow-list is needed.)
  for (size_t i = 0; i < text.size();) {
    if (!IsWordChar(text[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    bool all_digits = true;
    while (end < text.size() && IsWordChar(text[end])) {
      all_digits &= std::isdigit(static_cast<unsigned char>(text[end])) != 0;
      ++end;
    }
    if (all_digits && end - i == kDigits && !IsTestIdentityNumber(text.substr(i, kDigits))) {
      found.push_back(Finding(text, i, where, "an 11-digit number"));
    }
    i = end;
  }
  return found;
}

std::string WithoutDisclosedPayloadIds(const std::string& cli_stdout) {
  static const std::regex kPayloadId("\"national_id\":\"[0-9]{11}\"");
  return std::regex_replace(cli_stdout, kPayloadId, "\"national_id\":\"<disclosed>\"");
}

}  // namespace infoflyt::testing
