#include "core/legal_basis.h"

#include <google/protobuf/util/field_mask_util.h>
#include <toml++/toml.h>

#include <algorithm>
#include <tuple>

#include "base/clock.h"
#include "base/duration.h"
#include "infoflyt/v1/messages.pb.h"

namespace infoflyt {
namespace {

using google::protobuf::util::FieldMaskUtil;

std::string Where(const toml::node& node) {
  return "legal-bases line " + std::to_string(node.source().begin.line);
}

// The body message of each type, found through the Envelope's oneof so the catalogue can only
// name types the API has.
const google::protobuf::Descriptor* BodyDescriptor(std::string_view type) {
  const auto* field = v1::Envelope::descriptor()->FindFieldByName(std::string(type));
  if (field == nullptr || field->containing_oneof() == nullptr) return nullptr;
  return field->message_type();
}

Status CheckKeys(const toml::table& t, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : t) {
    if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
      return {Code::kInvalidArgument,
              Where(value) + ": unknown key '" + std::string(key.str()) + "'"};
    }
  }
  return Status::Ok();
}

// A required array of strings.
Status Strings(const toml::table& t, std::string_view key, const toml::node& where,
               std::vector<std::string>* out) {
  const toml::array* array = t[key].as_array();
  if (array == nullptr || array->empty()) {
    return {Code::kInvalidArgument,
            Where(where) + ": " + std::string(key) + " must be a non-empty array of strings"};
  }
  for (const toml::node& item : *array) {
    const auto* s = item.as_string();
    if (s == nullptr) {
      return {Code::kInvalidArgument, Where(item) + ": " + std::string(key) + " holds strings"};
    }
    out->push_back(s->get());
  }
  return Status::Ok();
}

Status Kinds(const toml::table& t, std::string_view key, const toml::node& where,
             std::vector<PartyKind>* out) {
  std::vector<std::string> names;
  if (Status s = Strings(t, key, where, &names); !s.ok()) return s;
  for (const auto& name : names) {
    const auto kind = ParsePartyKind(name);
    if (!kind) {
      return {Code::kInvalidArgument,
              Where(where) + ": unknown party kind '" + name + "' in " + std::string(key)};
    }
    out->push_back(*kind);
  }
  return Status::Ok();
}

Status ParseFlow(const toml::node& node, Flow* flow) {
  const toml::table* t = node.as_table();
  if (t == nullptr) return {Code::kInvalidArgument, Where(node) + ": flow must be a table"};
  if (Status s = CheckKeys(*t, {"from", "to", "messages", "view", "max_handling"}); !s.ok()) {
    return s;
  }
  flow->line = static_cast<int>(node.source().begin.line);
  if (const toml::node* cap = t->get("max_handling"); cap != nullptr) {
    v1::HandlingRestriction level = v1::HANDLING_RESTRICTION_UNSPECIFIED;
    if (!cap->is_string() || !v1::HandlingRestriction_Parse(cap->value_or(std::string()), &level) ||
        level == v1::HANDLING_RESTRICTION_UNSPECIFIED) {
      return {Code::kInvalidArgument, Where(*cap) +
                                          ": max_handling must be TLP_CLEAR, TLP_GREEN, TLP_AMBER, "
                                          "TLP_AMBER_STRICT or TLP_RED"};
    }
    flow->max_handling = level;
  }
  if (Status s = Kinds(*t, "from", node, &flow->from); !s.ok()) return s;
  if (Status s = Kinds(*t, "to", node, &flow->to); !s.ok()) return s;
  if (Status s = Strings(*t, "messages", node, &flow->messages); !s.ok()) return s;
  bool flags = false;
  for (const auto& type : flow->messages) {
    flags = flags || type == kFlagMessageType;
    if (type != kFlagMessageType && BodyDescriptor(type) == nullptr) {
      return {Code::kInvalidArgument, Where(node) + ": unknown message type '" + type + "'"};
    }
  }
  // view = "full" or a list of field paths valid in every listed message type.
  if (const auto* whole = (*t)["view"].as_string(); whole != nullptr && whole->get() == "full") {
    return Status::Ok();
  }
  if (flags) {
    return {Code::kInvalidArgument,
            Where(node) + ": a flow of \"flag\" shows whole flags: its view must be \"full\""};
  }
  if (Status s = Strings(*t, "view", node, &flow->view); !s.ok()) {
    return {Code::kInvalidArgument, s.message() + " (or \"full\")"};
  }
  for (const auto& path : flow->view) {
    for (const auto& type : flow->messages) {
      if (!FieldMaskUtil::GetFieldDescriptors(BodyDescriptor(type), path, nullptr)) {
        return {Code::kInvalidArgument,
                Where(node) + ": view field '" + path + "' is not a field of " + type};
      }
    }
  }
  return Status::Ok();
}

template <typename T>
bool Contains(const std::vector<T>& v, const T& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

Status ParseRegistry(const toml::node& node, RegistryRules* out) {
  const toml::table* t = node.as_table();
  if (t == nullptr) return {Code::kInvalidArgument, Where(node) + ": [registry] must be a table"};
  if (Status s = CheckKeys(*t, {"may_list_all", "may_end_others"}); !s.ok()) return s;
  if (t->contains("may_list_all")) {
    if (Status s = Kinds(*t, "may_list_all", node, &out->may_list_all); !s.ok()) return s;
  }
  if (const toml::node* others = t->get("may_end_others"); others != nullptr) {
    const toml::table* by_kind = others->as_table();
    if (by_kind == nullptr) {
      return {Code::kInvalidArgument,
              Where(*others) + ": may_end_others must be a table of kind = [kinds]"};
    }
    for (const auto& [name, kinds] : *by_kind) {
      const auto kind = ParsePartyKind(name.str());
      if (!kind) {
        return {Code::kInvalidArgument, Where(kinds) + ": unknown party kind '" +
                                            std::string(name.str()) + "' in may_end_others"};
      }
      if (Status s = Kinds(*by_kind, name.str(), kinds, &out->may_end_others[*kind]); !s.ok()) {
        return s;
      }
    }
  }
  return Status::Ok();
}

// `retain` and `retain_max` of table `t`, where set, over what `rule` holds.
Status ParseRetention(const toml::table& t, Retention* rule) {
  for (auto [key, micros, text] :
       {std::tuple{"retain", &rule->retain, &rule->retain_text},
        std::tuple{"retain_max", &rule->retain_max, &rule->retain_max_text}}) {
    const toml::node* node = t.get(key);
    if (node == nullptr) continue;
    const auto* value = node->as_string();
    int64_t parsed = 0;
    Status s = value == nullptr
                   ? Status{Code::kInvalidArgument, "must be a duration such as \"30d\""}
                   : ParseDuration(value->get(), &parsed);
    if (s.ok() && parsed < kMicrosPerSecond) {
      s = {Code::kInvalidArgument, "must be at least 1s"};
    }
    if (!s.ok()) {
      return {Code::kInvalidArgument, Where(*node) + ": " + std::string(key) + ": " + s.message()};
    }
    *micros = parsed;
    *text = value->get();
  }
  return Status::Ok();
}

}  // namespace

bool LegalBasis::CoversFlagsOf(PartyKind kind) const {
  return std::any_of(flows.begin(), flows.end(), [&](const Flow& f) {
    return Contains(f.from, kind) && Contains(f.messages, std::string(kFlagMessageType));
  });
}

bool RegistryRules::MayListAll(PartyKind caller) const { return Contains(may_list_all, caller); }

bool RegistryRules::MayEndFlag(PartyKind caller_kind, std::string_view caller, PartyKind owner_kind,
                               std::string_view owner) const {
  if (caller == owner) return true;
  const auto it = may_end_others.find(caller_kind);
  return it != may_end_others.end() && Contains(it->second, owner_kind);
}

std::string Flow::ViewString() const {
  if (view.empty()) return "*";
  std::string out;
  for (const auto& path : view) out += (out.empty() ? "" : ",") + path;
  return out;
}

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
  if (const toml::node* retention = doc.get("retention"); retention != nullptr) {
    const toml::table* t = retention->as_table();
    if (t == nullptr) {
      return {Code::kInvalidArgument, Where(*retention) + ": [retention] must be a table"};
    }
    if (Status s = CheckKeys(*t, {"retain", "retain_max"}); !s.ok()) return s;
    if (Status s = ParseRetention(*t, &catalogue.retention_); !s.ok()) return s;
  }
  for (const toml::node& node : *entries) {
    const toml::table* t = node.as_table();
    if (t == nullptr) return {Code::kInvalidArgument, Where(node) + ": basis must be a table"};
    if (Status s = CheckKeys(*t, {"id", "citation", "title", "flow", "retain", "retain_max"});
        !s.ok()) {
      return s;
    }
    LegalBasis b;
    b.retention = catalogue.retention_;
    if (Status s = ParseRetention(*t, &b.retention); !s.ok()) return s;
    b.id = (*t)["id"].value_or(std::string());
    b.citation = (*t)["citation"].value_or(std::string());
    b.title = (*t)["title"].value_or(std::string());
    if (b.id.empty() || b.citation.empty() || b.title.empty()) {
      return {Code::kInvalidArgument, Where(node) + ": id, citation and title are required"};
    }
    if (const toml::array* flows = (*t)["flow"].as_array(); flows != nullptr) {
      for (const toml::node& flow_node : *flows) {
        if (Status s = ParseFlow(flow_node, &b.flows.emplace_back()); !s.ok()) return s;
      }
    }
    const std::string id = b.id;
    if (!catalogue.by_id_.emplace(id, std::move(b)).second) {
      return {Code::kInvalidArgument, Where(node) + ": duplicate basis id " + id};
    }
  }
  if (const toml::node* registry = doc.get("registry"); registry != nullptr) {
    if (Status s = ParseRegistry(*registry, &catalogue.registry_); !s.ok()) return s;
  }
  for (const auto& [key, value] : doc) {
    if (key.str() != "basis" && key.str() != "registry" && key.str() != "retention") {
      return {Code::kInvalidArgument,
              Where(value) + ": unknown table '" + std::string(key.str()) + "'"};
    }
  }
  *out = std::move(catalogue);
  return Status::Ok();
}

const LegalBasis* LegalBasisCatalogue::Find(std::string_view id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

const Retention& LegalBasisCatalogue::RetentionOf(std::string_view id) const {
  const LegalBasis* basis = Find(id);
  return basis == nullptr ? retention_ : basis->retention;
}

int64_t LegalBasisCatalogue::ShortestRetention() const {
  int64_t shortest = std::min(retention_.retain, retention_.retain_max);
  for (const auto& [id, basis] : by_id_) {
    shortest = std::min({shortest, basis.retention.retain, basis.retention.retain_max});
  }
  return shortest;
}

std::vector<std::string> LegalBasisCatalogue::Ids() const {
  std::vector<std::string> ids;
  for (const auto& [id, basis] : by_id_) ids.push_back(id);
  return ids;
}

std::string LegalBasisCatalogue::UnknownIdDescription() const {
  std::string ids;
  for (const auto& [id, basis] : by_id_) ids += (ids.empty() ? "" : ", ") + id;
  return "is not in the catalogue; valid ids: " + ids;
}

const Flow* LegalBasisCatalogue::Decide(std::string_view basis_id, PartyKind from, PartyKind to,
                                        std::string_view message_type) const {
  const LegalBasis* basis = Find(basis_id);
  if (basis == nullptr) return nullptr;
  for (const Flow& flow : basis->flows) {
    if (Contains(flow.from, from) && Contains(flow.to, to) &&
        Contains(flow.messages, std::string(message_type))) {
      return &flow;
    }
  }
  return nullptr;
}

}  // namespace infoflyt
