#include "core/parties.h"

#include <toml++/toml.h>

#include <array>
#include <cctype>

namespace infoflyt {
namespace {

constexpr std::array<std::pair<PartyKind, std::string_view>, 6> kKindNames = {{
    {PartyKind::kCorrectional, "correctional"},
    {PartyKind::kPolice, "police"},
    {PartyKind::kPst, "pst"},
    {PartyKind::kMunicipality, "municipality"},
    {PartyKind::kAuditor, "auditor"},
    {PartyKind::kOperator, "operator"},
}};

std::string Where(const toml::node& node) {
  return "parties line " + std::to_string(node.source().begin.line);
}

// `contact` is required for police parties (`required`) and allowed for no one else.
Status ParseContact(const toml::table& party, const toml::node& where, bool required,
                    PartyContact* out) {
  const toml::node* node = party.get("contact");
  if (node == nullptr) {
    if (!required) return Status::Ok();
    return {Code::kInvalidArgument,
            Where(where) + ": police parties need contact = { name, phone }"};
  }
  const toml::table* t = node->as_table();
  if (!required || t == nullptr) {
    return {Code::kInvalidArgument,
            Where(*node) + ": contact is a table { name, unit, phone, email }, for police parties"};
  }
  for (const auto& [key, value] : *t) {
    if (key != "name" && key != "unit" && key != "phone" && key != "email") {
      return {Code::kInvalidArgument,
              Where(value) + ": unknown contact key '" + std::string(key.str()) + "'"};
    }
  }
  out->name = (*t)["name"].value_or(std::string());
  out->unit = (*t)["unit"].value_or(std::string());
  out->phone = (*t)["phone"].value_or(std::string());
  out->email = (*t)["email"].value_or(std::string());
  if (out->name.empty() || out->phone.empty()) {
    return {Code::kInvalidArgument, Where(*node) + ": contact needs name and phone"};
  }
  return Status::Ok();
}

// revoked_certificates: SHA-256 fingerprints as `openssl x509 -fingerprint -sha256` prints them
// (AB:CD:...) or as plain hex, kept as lower-case hex.
Status ParseFingerprints(const toml::table& party, const toml::node& where,
                         std::set<std::string>* out) {
  const toml::node* node = party.get("revoked_certificates");
  if (node == nullptr) return Status::Ok();
  const toml::array* list = node->as_array();
  if (list == nullptr) {
    return {Code::kInvalidArgument, Where(where) + ": revoked_certificates must be an array"};
  }
  for (const toml::node& item : *list) {
    std::string hex;
    for (char c : item.value_or(std::string())) {
      if (c != ':') hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return {Code::kInvalidArgument,
              Where(item) +
                  ": revoked_certificates entries must be SHA-256 fingerprints (64 hex "
                  "digits, colons allowed)"};
    }
    out->insert(std::move(hex));
  }
  return Status::Ok();
}

Status ParseScope(const toml::table& party, const toml::node& where, PartyKind kind,
                  std::set<PartyKind>* out) {
  const toml::node* node = party.get("out_of_scope");
  if (node == nullptr) return Status::Ok();
  const toml::array* list = node->as_array();
  if (kind != PartyKind::kAuditor || list == nullptr) {
    return {Code::kInvalidArgument,
            Where(where) + ": out_of_scope is for auditor parties, an array of party kinds"};
  }
  for (const toml::node& item : *list) {
    const auto excluded = ParsePartyKind(item.value_or(std::string_view()));
    if (!excluded) {
      return {Code::kInvalidArgument, Where(item) + ": out_of_scope entries must be party kinds"};
    }
    out->insert(*excluded);
  }
  return Status::Ok();
}

}  // namespace

std::optional<PartyKind> ParsePartyKind(std::string_view name) {
  for (const auto& [kind, kind_name] : kKindNames) {
    if (kind_name == name) return kind;
  }
  return std::nullopt;
}

std::string_view PartyKindName(PartyKind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

bool IsPartyId(std::string_view id) {
  return !id.empty() && id.size() <= 64 &&
         id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string_view::npos;
}

std::optional<PartyKind> KindOfKey(std::string_view key) {
  const size_t slash = key.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  return ParsePartyKind(key.substr(0, slash));
}

std::string Party::Key() const { return std::string(PartyKindName(kind)) + "/" + id; }

Status PartyRegistry::Parse(std::string_view toml_text, const Places& places, PartyRegistry* out) {
  toml::table doc;
  try {
    doc = toml::parse(toml_text, std::string_view("parties"));
  } catch (const toml::parse_error& e) {
    return {Code::kInvalidArgument, "parties line " + std::to_string(e.source().begin.line) + ": " +
                                        std::string(e.description())};
  }
  const toml::array* entries = doc["party"].as_array();
  if (entries == nullptr) return {Code::kInvalidArgument, "parties: no [[party]] tables"};

  PartyRegistry registry;
  for (const toml::node& node : *entries) {
    const toml::table* t = node.as_table();
    if (t == nullptr) return {Code::kInvalidArgument, Where(node) + ": party must be a table"};
    for (const auto& [key, value] : *t) {
      if (key != "kind" && key != "id" && key != "name" && key != "police_district" &&
          key != "contact" && key != "revoked_certificates" && key != "out_of_scope") {
        return {Code::kInvalidArgument,
                Where(value) + ": unknown key '" + std::string(key.str()) + "'"};
      }
    }
    Party p;
    const auto kind = ParsePartyKind((*t)["kind"].value_or(std::string_view()));
    if (!kind)
      return {Code::kInvalidArgument, Where(node) +
                                          ": kind must be one of correctional, "
                                          "police, pst, municipality, auditor, "
                                          "operator"};
    p.kind = *kind;
    p.id = (*t)["id"].value_or(std::string());
    p.name = (*t)["name"].value_or(std::string());
    p.police_district = (*t)["police_district"].value_or(std::string());
    if (!IsPartyId(p.id)) {
      return {Code::kInvalidArgument, Where(node) + ": id must be 1-64 of [a-z0-9-]"};
    }
    if (p.kind == PartyKind::kMunicipality && places.Find(p.id) == nullptr) {
      return {Code::kInvalidArgument,
              Where(node) + ": municipality id must be a known kommunenummer"};
    }
    if ((p.kind == PartyKind::kPolice) == p.police_district.empty()) {
      return {Code::kInvalidArgument,
              Where(node) + ": police_district is required for police parties and only them"};
    }
    if (Status s = ParseContact(*t, node, p.kind == PartyKind::kPolice, &p.contact); !s.ok()) {
      return s;
    }
    if (Status s = ParseFingerprints(*t, node, &p.revoked_certificates); !s.ok()) return s;
    if (Status s = ParseScope(*t, node, p.kind, &p.out_of_scope); !s.ok()) return s;
    const std::string key = p.Key();
    if (!registry.by_key_.emplace(key, std::move(p)).second) {
      return {Code::kInvalidArgument, Where(node) + ": duplicate party " + key};
    }
  }
  for (const auto& [key, party] : registry.by_key_) {
    registry.by_kind_[party.kind].push_back(&party);
    if (party.kind != PartyKind::kPolice) continue;
    if (!registry.police_by_district_.emplace(party.police_district, &party).second) {
      return {Code::kInvalidArgument, "parties: two police parties serve " + party.police_district};
    }
  }
  for (const std::string& district : places.Districts()) {
    if (!registry.police_by_district_.contains(district)) {
      return {Code::kInvalidArgument, "parties: no police party serves " + district};
    }
  }
  *out = std::move(registry);
  return Status::Ok();
}

const Party* PartyRegistry::Find(PartyKind kind, std::string_view id) const {
  return FindByKey(std::string(PartyKindName(kind)) + "/" + std::string(id));
}

const Party* PartyRegistry::FindByKey(std::string_view key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : &it->second;
}

const Party* PartyRegistry::PoliceFor(std::string_view district) const {
  auto it = police_by_district_.find(district);
  return it == police_by_district_.end() ? nullptr : it->second;
}

const std::vector<const Party*>& PartyRegistry::OfKind(PartyKind kind) const {
  static const std::vector<const Party*> kNone;
  auto it = by_kind_.find(kind);
  return it == by_kind_.end() ? kNone : it->second;
}

}  // namespace infoflyt
