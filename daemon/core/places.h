// The municipalities (kommuner) and the police district each belongs to, loaded from the shipped
// CSV data. Immutable after loading, so it can be shared between threads.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace infoflyt {

struct Municipality {
  std::string number;  // Kommunenummer, 4 digits.
  std::string name;
  std::string county;
  std::string police_district;  // e.g. "Oslo politidistrikt".
};

class Places {
 public:
  // Parses the municipality list (kommunenummer,name,fylke) and the district table
  // (kommunenummer,kommune,fylke,politidistrikt,note), then applies `overrides`
  // (kommunenummer -> district) on top, for the operator's corrections of single rows.
  // Every municipality must have exactly one district. Errors name the file and line.
  static Status Parse(std::string_view municipalities_csv, std::string_view districts_csv,
                      const std::map<std::string, std::string>& overrides, Places* out);

  // nullptr if no such municipality.
  const Municipality* Find(std::string_view number) const;
  const std::map<std::string, Municipality, std::less<>>& all() const { return by_number_; }
  // The distinct police district names, sorted.
  std::vector<std::string> Districts() const;

 private:
  std::map<std::string, Municipality, std::less<>> by_number_;
};

}  // namespace infoflyt
