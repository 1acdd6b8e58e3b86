// Parties: the organisation units that may call infoflytd, each identified by the SPIFFE ID in
// its certificate (spiffe://<trust-domain>/<kind>/<id>). The registry is immutable once loaded.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "core/places.h"

namespace infoflyt {

// A contact point published to other parties (all fields text; phone and e-mail as dialled or
// addressed).
struct PartyContact {
  std::string name;
  std::string unit;
  std::string phone;
  std::string email;
};

enum class PartyKind { kCorrectional, kPolice, kPst, kMunicipality, kAuditor, kOperator };

std::optional<PartyKind> ParsePartyKind(std::string_view name);
std::string_view PartyKindName(PartyKind kind);
// The kind a party key ("police/oslo") names, whether or not that party is registered now.
std::optional<PartyKind> KindOfKey(std::string_view key);
// 1-64 of [a-z0-9-]: what a party id may be.
bool IsPartyId(std::string_view id);

struct Party {
  PartyKind kind = PartyKind::kOperator;
  std::string id;    // Unique within the kind: [a-z0-9-]+; municipalities use their number.
  std::string name;  // Human-readable name.
  // For police parties: the police district they serve ("Oslo politidistrikt").
  std::string police_district;
  // For police parties: whom municipalities told about a person should contact.
  PartyContact contact;
  // SHA-256 fingerprints (lower-case hex) of this party's certificates that are refused though
  // their CA has not revoked them (yet): the deny-list for the hours before a CRL is published.
  std::set<std::string> revoked_certificates;
  // For auditor parties: the kinds of party whose records are out of its scope (audit_scope.h),
  // e.g. PST's for an oversight body that may not see them. Empty: it sees everything.
  std::set<PartyKind> out_of_scope;

  // "<kind>/<id>", the party's name on the wire and in the store.
  std::string Key() const;
};

class PartyRegistry {
 public:
  // Parses `[[party]]` tables (kind, id, name; police parties also police_district and
  // contact = { name, unit, phone, email }, of which name and phone are required; any party
  // revoked_certificates = ["<SHA-256 fingerprint>", ...], hex with or without colons; auditor
  // parties out_of_scope = ["<kind>", ...]). Checks that
  // ids are well formed and unique, that municipality ids are municipalities in `places`, and that
  // every police district in `places` is served by exactly one police party, so routing is total.
  static Status Parse(std::string_view toml_text, const Places& places, PartyRegistry* out);

  // nullptr if the party is not registered.
  const Party* Find(PartyKind kind, std::string_view id) const;
  const Party* FindByKey(std::string_view key) const;
  // The police party serving `district`; never nullptr for a district of the loaded places.
  const Party* PoliceFor(std::string_view district) const;
  const std::vector<const Party*>& OfKind(PartyKind kind) const;
  size_t size() const { return by_key_.size(); }

 private:
  std::map<std::string, Party, std::less<>> by_key_;
  std::map<std::string, const Party*, std::less<>> police_by_district_;
  std::map<PartyKind, std::vector<const Party*>> by_kind_;
};

}  // namespace infoflyt
