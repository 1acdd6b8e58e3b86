// The catalogue of legal bases a disclosure may cite, and the flows each allows, loaded from
// deploy/legal-bases.toml. This is the disclosure policy: a delivery happens only if the cited
// basis has a flow from the sender's kind to the recipient's kind for that message type, and
// the recipient then sees only the fields of that flow's view. Immutable once loaded.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "core/parties.h"
#include "core/retention.h"

namespace infoflyt {

// What a basis allows: senders of some kinds may give recipients of some kinds some message
// types, showing only the fields in `view`.
struct Flow {
  std::vector<PartyKind> from;
  std::vector<PartyKind> to;
  std::vector<std::string> messages;  // Message types: "release_notice", ...
  // Field paths inside the message body (FieldMask syntax, e.g. "person.given_name"), or empty
  // for the whole body.
  std::vector<std::string> view;
  // The highest handling restriction (a v1::HandlingRestriction, TLP_CLEAR .. TLP_RED) the flow
  // may carry; 0 for no cap.
  int max_handling = 0;
  int line = 0;  // Where the flow is in the catalogue file.

  bool whole_body() const { return view.empty(); }
  // Whether a message of handling restriction `handling` may go by this flow.
  bool Carries(int handling) const { return max_handling == 0 || handling <= max_handling; }
  // "*" for the whole body, else the paths joined with ",".
  std::string ViewString() const;
};

// The message type of a flow that lets one party see flags another set (Registry/ListFlags).
inline constexpr std::string_view kFlagMessageType = "flag";

// Who may do what in the flag registry, from the catalogue's [registry] table. A party may
// always end a flag it set itself.
struct RegistryRules {
  std::vector<PartyKind> may_list_all;  // Kinds that may list every flag, without identities.
  std::map<PartyKind, std::vector<PartyKind>> may_end_others;  // Kind -> owners' kinds.

  bool MayListAll(PartyKind caller) const;
  // Whether `caller` (of `caller_kind`) may end a flag that `owner` (of `owner_kind`) set.
  bool MayEndFlag(PartyKind caller_kind, std::string_view caller, PartyKind owner_kind,
                  std::string_view owner) const;
};

struct LegalBasis {
  std::string id;        // e.g. "strgjfl-4i".
  std::string citation;  // e.g. "straffegjennomføringsloven § 4 i".
  std::string title;     // What the provision allows, in a sentence.
  std::vector<Flow> flows;
  Retention retention;  // Its own retain/retain_max, else the catalogue's [retention].

  // Whether a party of `kind` may record flags under this basis: it has a "flag" flow from
  // that kind, so that the parties the flag concerns can be shown it.
  bool CoversFlagsOf(PartyKind kind) const;
};

class LegalBasisCatalogue {
 public:
  // Parses `[[basis]]` tables (id, citation, title, and optionally retain and retain_max) with
  // their `[[basis.flow]]` tables (from, to, messages, view), the `[registry]` table
  // (may_list_all, may_end_others) and the `[retention]` table (retain, retain_max: the
  // defaults of bases that set none; Retention::Default() without it). Unknown
  // keys, party kinds, message types and view fields are errors naming the line. A flow of the
  // message type "flag" shows whole flags: its view must be "full".
  static Status Parse(std::string_view toml_text, LegalBasisCatalogue* out);

  const LegalBasis* Find(std::string_view id) const;  // nullptr if unknown.
  const RegistryRules& registry() const { return registry_; }
  // What is kept how long under basis `id`; the catalogue's default for an id it no longer has
  // (a record may cite a basis since retired).
  const Retention& RetentionOf(std::string_view id) const;
  // The shortest time any rule keeps a message's bodies (the lesser of retain and retain_max of
  // every basis and the default): nothing posted since is due for erasure.
  int64_t ShortestRetention() const;
  std::vector<std::string> Ids() const;  // Sorted.
  // Why `id` is refused as a legal basis, listing the valid ids; for error texts.
  std::string UnknownIdDescription() const;

  // The first flow of `basis_id` letting a `from` party give a `to` party `message_type`;
  // nullptr if none does (the disclosure is refused).
  const Flow* Decide(std::string_view basis_id, PartyKind from, PartyKind to,
                     std::string_view message_type) const;

 private:
  std::map<std::string, LegalBasis, std::less<>> by_id_;
  RegistryRules registry_;
  Retention retention_ = Retention::Default();
};

}  // namespace infoflyt
