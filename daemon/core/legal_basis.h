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
  int line = 0;  // Where the flow is in the catalogue file.

  bool whole_body() const { return view.empty(); }
  // "*" for the whole body, else the paths joined with ",".
  std::string ViewString() const;
};

struct LegalBasis {
  std::string id;        // e.g. "strgjfl-4i".
  std::string citation;  // e.g. "straffegjennomføringsloven § 4 i".
  std::string title;     // What the provision allows, in a sentence.
  std::vector<Flow> flows;
};

class LegalBasisCatalogue {
 public:
  // Parses `[[basis]]` tables (id, citation, title) with their `[[basis.flow]]` tables (from,
  // to, messages, view). Unknown keys, party kinds, message types and view fields are errors
  // naming the line.
  static Status Parse(std::string_view toml_text, LegalBasisCatalogue* out);

  const LegalBasis* Find(std::string_view id) const;  // nullptr if unknown.
  std::vector<std::string> Ids() const;               // Sorted.
  // Why `id` is refused as a legal basis, listing the valid ids; for error texts.
  std::string UnknownIdDescription() const;

  // The first flow of `basis_id` letting a `from` party give a `to` party `message_type`;
  // nullptr if none does (the disclosure is refused).
  const Flow* Decide(std::string_view basis_id, PartyKind from, PartyKind to,
                     std::string_view message_type) const;

 private:
  std::map<std::string, LegalBasis, std::less<>> by_id_;
};

}  // namespace infoflyt
