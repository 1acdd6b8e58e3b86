#include "core/national_id.h"

#include <array>

namespace infoflyt {
namespace {

// Weights from Skatteetaten's specification; the trailing 1 folds the check digit itself into
// the sum, so a valid number gives sum mod 11 == 0 (k2), or in {0,1,2,3} for k1 under the 2032
// rule (k1 = 11, 12, 13 or 14 minus the sum of the first nine digits, mod 11).
constexpr std::array<int, 10> kK1Weights = {3, 7, 6, 1, 8, 9, 4, 5, 2, 1};
constexpr std::array<int, 11> kK2Weights = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2, 1};

template <size_t N>
int WeightedSumMod11(std::string_view digits, const std::array<int, N>& weights) {
  int sum = 0;
  for (size_t i = 0; i < N; ++i) sum += (digits[i] - '0') * weights[i];
  return sum % 11;
}

int DaysInMonth(int month) {
  // The century is not known from the number alone, so 29 February is always accepted.
  static constexpr std::array<int, 12> kDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return kDays[month - 1];
}

}  // namespace

NationalIdCheck CheckNationalId(std::string_view id) {
  NationalIdCheck result;
  if (id.size() != 11) {
    result.reason = "must be exactly 11 digits";
    return result;
  }
  for (char c : id) {
    if (c < '0' || c > '9') {
      result.reason = "must contain digits only";
      return result;
    }
  }
  int day = (id[0] - '0') * 10 + (id[1] - '0');
  const int month = (id[2] - '0') * 10 + (id[3] - '0');
  if (day > 40) {
    result.kind = NationalIdKind::kDNumber;
    day -= 40;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(month)) {
    result.reason = "does not start with a valid date (DDMMYY, D-number day + 40)";
    return result;
  }
  if (WeightedSumMod11(id, kK1Weights) > 3) {
    result.reason = "first check digit is wrong";
    return result;
  }
  if (WeightedSumMod11(id, kK2Weights) != 0) {
    result.reason = "second check digit is wrong";
    return result;
  }
  result.valid = true;
  return result;
}

std::string NationalIdProblem(std::string_view id) {
  if (id.empty()) return "is required";
  const NationalIdCheck check = CheckNationalId(id);
  if (check.valid) return "";
  return "is not a valid fødselsnummer or D-number: " + std::string(check.reason);
}

}  // namespace infoflyt
