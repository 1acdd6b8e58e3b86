#include "integration/identity_number_guard.h"

#include <algorithm>
#include <cctype>
#include <regex>

namespace infoflyt::testing {
namespace {

// Every identity number an integration test posts, flags, queries or passes to the CLI. Found
// even inside a longer token (e.g. "subject=15076500565abc"), which the stand-alone rule misses.
constexpr const char* kTestIdentityNumbers[] = {
    "15076500565",
    "31129987688",
    "15076500564",
    "52037745650",
};

constexpr size_t kDigits = 11;
constexpr size_t kContext = 40;

// Reported by the first pass already.
bool IsTestIdentityNumber(std::string_view token) {
  return std::ranges::any_of(kTestIdentityNumbers,
                             [&](const char* number) { return token == number; });
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

std::string Finding(std::string_view text, size_t at, std::string_view where,
                    std::string_view what) {
  const size_t from = at > kContext ? at - kContext : 0;
  std::string context(text.substr(from, kDigits + 2 * kContext));
  for (char& c : context) {
    if (std::isdigit(static_cast<unsigned char>(c))) c = '#';
    if (c == '\n') c = ' ';
  }
  return std::string(what) + " in " + std::string(where) + " at offset " + std::to_string(at) +
         ": ..." + context + "...";
}

}  // namespace

std::vector<std::string> FindIdentityNumbers(std::string_view text, std::string_view where) {
  std::vector<std::string> found;
  for (const char* number : kTestIdentityNumbers) {
    for (size_t at = text.find(number); at != std::string_view::npos;
         at = text.find(number, at + 1)) {
      found.push_back(Finding(text, at, where, "an identity number the tests use"));
    }
  }
  // Runs of letters and digits; a token of exactly 11 digits is a stand-alone number. (A
  // Prometheus sample value or a Unix time has at most 10 digits until the year 2286, a
  // millisecond time 13; the daemon logs times as RFC 3339. No allow-list has been needed.)
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
