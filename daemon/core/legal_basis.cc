#include "core/legal_basis.h"

#include <toml++/toml.h>

namespace infoflyt {

Status LegalBasisCatalogue::Parse(std::string_view toml_text, LegalBasisCatalogue* out) {
  toml::table doc;
  try {
    doc = toml::parse(toml_text, std::string_view("legal-bases"));
  } catch (const toml::parse_error& e) {
    return {Code::kInvalidArgument, "legal-bases line " + std::to_string(e.source().begin.line) +
                                        ": " + std::string(e.description())};
  }
  const toml::array* entries = doc["basis"].as_array();
  if (entries == nullptr) return {Code::kInvalidArgument, "legal-bases: no [[basis]] tables"};
  LegalBasisCatalogue catalogue;
  for (const toml::node& node : *entries) {
    const std::string where = "legal-bases line " + std::to_string(node.source().begin.line);
    const toml::table* t = node.as_table();
    if (t == nullptr) return {Code::kInvalidArgument, where + ": basis must be a table"};
    LegalBasis b;
    b.id = (*t)["id"].value_or(std::string());
    b.citation = (*t)["citation"].value_or(std::string());
    b.title = (*t)["title"].value_or(std::string());
    if (b.id.empty() || b.citation.empty() || b.title.empty()) {
      return {Code::kInvalidArgument, where + ": id, citation and title are required"};
    }
    const std::string id = b.id;
    if (!catalogue.by_id_.emplace(id, std::move(b)).second) {
      return {Code::kInvalidArgument, where + ": duplicate basis id " + id};
    }
  }
  *out = std::move(catalogue);
  return Status::Ok();
}

const LegalBasis* LegalBasisCatalogue::Find(std::string_view id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

std::vector<std::string> LegalBasisCatalogue::Ids() const {
  std::vector<std::string> ids;
  for (const auto& [id, basis] : by_id_) ids.push_back(id);
  return ids;
}

}  // namespace infoflyt
