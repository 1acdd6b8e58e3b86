// The catalogue of legal bases a disclosure may cite, loaded from deploy/legal-bases.toml.
// Immutable once loaded.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace infoflyt {

struct LegalBasis {
  std::string id;        // e.g. "strgjfl-4i".
  std::string citation;  // e.g. "straffegjennomføringsloven § 4 i".
  std::string title;     // What the provision allows, in a sentence.
};

class LegalBasisCatalogue {
 public:
  // Parses `[[basis]]` tables (id, citation, title); all three are required and ids unique.
  // Errors name the line.
  static Status Parse(std::string_view toml_text, LegalBasisCatalogue* out);

  const LegalBasis* Find(std::string_view id) const;  // nullptr if unknown.
  std::vector<std::string> Ids() const;               // Sorted.

 private:
  std::map<std::string, LegalBasis, std::less<>> by_id_;
};

}  // namespace infoflyt
