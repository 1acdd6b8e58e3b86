// The disclosure policy as pure functions: from who posts, what (a validated envelope), the
// catalogues in force and the person's active flags, to the plan the store carries out, that
// is which recipients are given which view of the message under which basis and on whose
// behalf, and which are refused and why. No I/O; the gRPC handlers only gather the inputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "core/catalogs.h"
#include "infoflyt/v1/messages.pb.h"

namespace infoflyt {

// A flag on a person (see registry.proto). Times in microseconds since the epoch.
struct FlagInfo {
  std::string flag_id;
  std::string reason;  // FlagReason name.
  std::string flagged_by;
  std::string legal_basis;
  int64_t flagged_at = 0;
  std::optional<int64_t> expires_at;
  std::optional<int64_t> unflagged_at;
  std::string unflagged_by;
  std::string subject_hash;  // Keyed hash of the person's identity number; never sent out.

  bool ActiveAt(int64_t now) const { return !unflagged_at && (!expires_at || *expires_at > now); }
};

// What one allowed recipient is given: its delivery and its disclosure record.
struct RecipientDisclosure {
  std::string party;         // Party key.
  std::string envelope;      // Serialised envelope cut to the recipient's view.
  std::string view;          // The view's field paths ("*" for the whole body).
  std::string content_hash;  // SHA-256 of `envelope`: exactly what was disclosed.
  // The basis this disclosure rests on, if not the one the sender cited (a flag's basis).
  std::string legal_basis;
  std::string legal_citation;
  std::string note;  // Recorded with the disclosure, e.g. which flag led to it.
  // The party on whose behalf it is made (a flag's owner), if not the sender's own.
  std::string on_behalf_of;
  // If set, the recipient must acknowledge by then (microseconds since the epoch), or the
  // delivery is escalated.
  std::optional<int64_t> ack_deadline;
};

// A routed recipient the policy does not allow: recorded, given nothing.
struct RecipientRefusal {
  std::string party;
  std::string reason;
  std::string on_behalf_of;  // As RecipientDisclosure's.
};

struct DisclosurePlan {
  std::vector<RecipientDisclosure> recipients;
  std::vector<RecipientRefusal> refusals;
};

// The plan for `envelope` (validated; the sender's idempotency key already cleared) posted by
// `sender`, with `flags` the person's active flags. Routes it (router.h: PERMISSION_DENIED if
// the sender's kind may not post its type), then, for each routed recipient:
//   - the flow of the cited basis from the sender's kind to the recipient's for the type; or,
//     for a municipality that basis does not reach, the flow of an active flag's basis from
//     the flag owner's kind, as that owner's disclosure (on_behalf_of, unless the sender's own
//     flag);
//   - refused if there is none, or if the flow does not carry the message's TLP level; a
//     municipality's refusal on a release notice is the flag owner's (PST's first), so that
//     the sender does not learn of the flag;
//   - given the flow's view; a municipality is given its police district's contact instead of
//     the sender's, and `ack_deadline`.
// Recipients given the same bytes share one rendering (one serialisation and hash).
Status PlanPost(const Party& sender, const v1::Envelope& envelope, const Catalogs& catalogs,
                const std::vector<FlagInfo>& flags, std::optional<int64_t> ack_deadline,
                DisclosurePlan* plan);

// The plan for an escalation notice (`envelope`, the daemon's own message) about a delivery to
// municipality `municipality` (party key) that went unacknowledged, disclosed under `basis_id`
// by `answerable` (the party whose disclosure it was: its sender or flag owner). It goes to
// `answerable` and to the municipality's police district, each only if the basis has an
// "escalation_notice" flow from the answerable party's kind to the recipient's that carries
// the envelope's TLP level, cut to that flow's view; each is made on `answerable`'s behalf (so
// that subject access and auditor scopes treat it as that party's). `note` is recorded with
// each.
void PlanEscalation(const v1::Envelope& envelope, const Catalogs& catalogs,
                    const std::string& municipality, const std::string& basis_id,
                    const std::string& answerable, const std::string& note, DisclosurePlan* plan);

}  // namespace infoflyt
