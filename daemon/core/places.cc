#include "core/places.h"

#include <set>

namespace infoflyt {
namespace {

// The shipped files are simple comma-separated rows without quoted fields; a quote in them is
// rejected rather than half-understood.
Status ForEachRow(std::string_view text, std::string_view file, size_t columns,
                  const auto& on_row) {
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line_no == 1 || line.empty()) continue;  // header
    std::vector<std::string> fields;
    size_t start = 0;
    while (true) {
      const size_t comma = line.find(',', start);
      fields.emplace_back(line.substr(start, comma - start));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    const std::string where = std::string(file) + " line " + std::to_string(line_no);
    if (fields.size() != columns || line.find('"') != std::string_view::npos) {
      return {Code::kInvalidArgument,
              where + ": expected " + std::to_string(columns) + " unquoted columns"};
    }
    if (Status s = on_row(fields, where); !s.ok()) return s;
  }
  return Status::Ok();
}

bool IsMunicipalityNumber(std::string_view s) {
  return s.size() == 4 && s.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

Status Places::Parse(std::string_view municipalities_csv, std::string_view districts_csv,
                     const std::map<std::string, std::string>& overrides, Places* out) {
  Places places;
  Status s = ForEachRow(
      municipalities_csv, "municipalities", 3,
      [&](const std::vector<std::string>& f, const std::string& where) {
        if (!IsMunicipalityNumber(f[0])) {
          return Status(Code::kInvalidArgument, where + ": kommunenummer must be 4 digits");
        }
        if (!places.by_number_.emplace(f[0], Municipality{f[0], f[1], f[2], ""}).second) {
          return Status(Code::kInvalidArgument, where + ": duplicate kommunenummer " + f[0]);
        }
        return Status::Ok();
      });
  if (!s.ok()) return s;
  s = ForEachRow(districts_csv, "police districts", 5,
                 [&](const std::vector<std::string>& f, const std::string& where) {
                   auto it = places.by_number_.find(f[0]);
                   if (it == places.by_number_.end()) {
                     return Status(Code::kInvalidArgument,
                                   where + ": unknown kommunenummer " + f[0]);
                   }
                   if (!it->second.police_district.empty()) {
                     return Status(Code::kInvalidArgument, where + ": second district for " + f[0]);
                   }
                   if (f[3].empty()) {
                     return Status(Code::kInvalidArgument, where + ": empty politidistrikt");
                   }
                   it->second.police_district = f[3];
                   return Status::Ok();
                 });
  if (!s.ok()) return s;
  for (const auto& [number, district] : overrides) {
    auto it = places.by_number_.find(number);
    if (it == places.by_number_.end()) {
      return {Code::kInvalidArgument, "district override: unknown kommunenummer " + number};
    }
    it->second.police_district = district;
  }
  for (const auto& [number, m] : places.by_number_) {
    if (m.police_district.empty()) {
      return {Code::kInvalidArgument, "police districts: no district for " + number};
    }
  }
  *out = std::move(places);
  return Status::Ok();
}

const Municipality* Places::Find(std::string_view number) const {
  auto it = by_number_.find(number);
  return it == by_number_.end() ? nullptr : &it->second;
}

std::vector<std::string> Places::Districts() const {
  std::set<std::string> districts;
  for (const auto& [number, m] : by_number_) districts.insert(m.police_district);
  return {districts.begin(), districts.end()};
}

}  // namespace infoflyt
