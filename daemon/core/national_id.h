// Norwegian personal identity numbers: fødselsnummer and D-number.
#pragma once

#include <string>
#include <string_view>

namespace infoflyt {

enum class NationalIdKind { kFodselsnummer, kDNumber };

struct NationalIdCheck {
  bool valid = false;
  NationalIdKind kind = NationalIdKind::kFodselsnummer;
  // Why it is invalid; a fixed text that never contains the number.
  std::string_view reason;
};

// Checks an 11-digit fødselsnummer or D-number (first digit + 4): the date part and both check
// digits, accepting the current rule and the rule in force from 2032, under which the first
// check digit may also be 12, 13 or 14 minus the weighted sum mod 11.
NationalIdCheck CheckNationalId(std::string_view id);

// "" if `id` is valid, else why not, for an error text (never containing the number).
std::string NationalIdProblem(std::string_view id);

}  // namespace infoflyt
