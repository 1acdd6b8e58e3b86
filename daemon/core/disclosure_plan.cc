#include "core/disclosure_plan.h"

#include <algorithm>

#include "base/crypto.h"
#include "core/disclosure_view.h"
#include "core/message_body.h"
#include "core/router.h"

namespace infoflyt {
namespace {

constexpr const char* kEscalationType = "escalation_notice";

// The flow under which `recipient` is given the message: the cited `basis`'s, or, for a
// municipality the cited basis does not reach, an active flag's basis's as the flagging party's
// disclosure (recorded in `out`). Null if nothing allows it.
const Flow* DecideFlow(const Catalogs& catalogs, const Party& sender, const LegalBasis& basis,
                       const std::string& type, const std::vector<FlagInfo>& flags,
                       const Party& recipient, RecipientDisclosure* out) {
  const Flow* flow = catalogs.legal_bases.Decide(basis.id, sender.kind, recipient.kind, type);
  for (size_t f = 0;
       flow == nullptr && recipient.kind == PartyKind::kMunicipality && f < flags.size(); ++f) {
    const Party* flagger = catalogs.parties.FindByKey(flags[f].flagged_by);
    const LegalBasis* flag_basis = catalogs.legal_bases.Find(flags[f].legal_basis);
    if (flagger == nullptr || flag_basis == nullptr) continue;
    flow = catalogs.legal_bases.Decide(flag_basis->id, flagger->kind, recipient.kind, type);
    if (flow != nullptr) {
      out->legal_basis = flag_basis->id;
      out->legal_citation = flag_basis->citation;
      out->note = "flag " + flags[f].flag_id + " by " + flags[f].flagged_by;
      // The sender's own flag: still its own disclosure.
      if (flags[f].flagged_by != sender.Key()) out->on_behalf_of = flags[f].flagged_by;
    }
  }
  return flow;
}

// Whose behalf a municipality's refusal on a release notice is made on: a release notice reaches
// a municipality only through a flag (router.h). None if the sender flagged the person itself
// (it learns nothing it does not know); else PST's flag if there is one (so that subject access
// leaves it out), else another party's.
std::string FlagOwnerToCredit(const std::vector<FlagInfo>& flags, const std::string& sender,
                              const v1::Envelope& envelope) {
  if (!envelope.has_release_notice() || flags.empty()) return "";
  for (const FlagInfo& f : flags) {
    if (f.flagged_by == sender) return "";
  }
  for (const FlagInfo& f : flags) {
    if (KindOfKey(f.flagged_by) == PartyKind::kPst) return f.flagged_by;
  }
  return flags.front().flagged_by;
}

// The bytes each recipient is given: `source` cut to the flow's view. Recipients given the same
// view of the same source under the same basis (police and PST, typically) share one rendering,
// so each distinct copy is serialised and hashed once.
class ViewRenderer {
 public:
  void Render(const v1::Envelope& source, const Flow& flow, RecipientDisclosure* out) {
    std::string view_paths = flow.ViewString();
    for (const Rendered& r : rendered_) {
      if (r.source == &source && r.view == view_paths && r.legal_basis == out->legal_basis) {
        Fill(r, out);
        return;
      }
    }
    v1::Envelope view = ApplyView(source, flow);
    // The recipient sees the basis its copy was actually disclosed under.
    if (!out->legal_basis.empty()) view.set_legal_basis(out->legal_basis);
    Rendered r{&source, out->legal_basis, view.SerializeAsString(), std::move(view_paths), ""};
    r.content_hash = Sha256(r.envelope);
    Fill(r, out);
    rendered_.push_back(std::move(r));
  }

 private:
  struct Rendered {
    const v1::Envelope* source;
    std::string legal_basis;
    std::string envelope;
    std::string view;
    std::string content_hash;
  };
  static void Fill(const Rendered& r, RecipientDisclosure* out) {
    out->envelope = r.envelope;
    out->view = r.view;
    out->content_hash = r.content_hash;
  }
  std::vector<Rendered> rendered_;
};

// A municipality is told whom to contact at its police district, not at the sending unit.
v1::Envelope WithPoliceContact(const v1::Envelope& delivered, const Catalogs& catalogs) {
  v1::Envelope out = delivered;
  const Municipality* home = catalogs.places.Find(BodyOf(delivered).home_municipality);
  const Party* police =
      home != nullptr ? catalogs.parties.PoliceFor(home->police_district) : nullptr;
  v1::Contact* contact = out.has_release_notice()  ? out.mutable_release_notice()->mutable_contact()
                         : out.has_return_notice() ? out.mutable_return_notice()->mutable_contact()
                                                   : nullptr;
  if (police == nullptr || contact == nullptr) return out;
  contact->set_name(police->contact.name);
  contact->set_unit(police->contact.unit);
  contact->set_phone(police->contact.phone);
  contact->set_email(police->contact.email);
  return out;
}

std::string HandlingName(int level) {
  return v1::HandlingRestriction_Name(static_cast<v1::HandlingRestriction>(level));
}

std::string NoFlow(const LegalBasis& basis, PartyKind from, PartyKind to, const std::string& type) {
  return "legal basis " + basis.id + " (" + basis.citation + ") allows no flow " +
         std::string(PartyKindName(from)) + " -> " + std::string(PartyKindName(to)) + " for " +
         type;
}

}  // namespace

Status PlanPost(const Party& sender, const v1::Envelope& envelope, const Catalogs& catalogs,
                const std::vector<FlagInfo>& flags, std::optional<int64_t> ack_deadline,
                DisclosurePlan* plan) {
  const LegalBasis* basis = catalogs.legal_bases.Find(envelope.legal_basis());
  if (basis == nullptr) {
    return Status::InvalidArgument(
        {{"envelope.legal_basis", catalogs.legal_bases.UnknownIdDescription()}});
  }
  std::vector<const Party*> routed;
  std::vector<std::string> unconnected;
  if (Status s = Route(sender, envelope, catalogs.places, catalogs.parties, &routed, !flags.empty(),
                       &unconnected);
      !s.ok()) {
    return s;
  }
  const std::string type(BodyOf(envelope).type);
  // Refusing a municipality a flag brought in is done on the flag owner's behalf, so that the
  // sender does not learn of the flag from its receipt.
  const std::string brought_in_by = FlagOwnerToCredit(flags, sender.Key(), envelope);
  std::optional<v1::Envelope> for_municipality;  // Made when first needed.
  ViewRenderer renderer;
  for (const Party* p : routed) {
    RecipientDisclosure disclosure;
    const bool municipal = p->kind == PartyKind::kMunicipality;
    const Flow* flow = DecideFlow(catalogs, sender, *basis, type, flags, *p, &disclosure);
    if (flow == nullptr) {
      plan->refusals.push_back(
          {p->Key(), NoFlow(*basis, sender.kind, p->kind, type), municipal ? brought_in_by : ""});
      continue;
    }
    if (!flow->Carries(envelope.handling())) {
      plan->refusals.push_back(
          {p->Key(),
           "the flow to " + std::string(PartyKindName(p->kind)) + " under " +
               (disclosure.legal_basis.empty() ? basis->id : disclosure.legal_basis) +
               " carries at most " + HandlingName(flow->max_handling) + "; this message is " +
               HandlingName(envelope.handling()),
           disclosure.on_behalf_of});
      continue;
    }
    disclosure.party = p->Key();
    if (municipal && !for_municipality) for_municipality = WithPoliceContact(envelope, catalogs);
    renderer.Render(municipal ? *for_municipality : envelope, *flow, &disclosure);
    if (municipal) disclosure.ack_deadline = ack_deadline;
    plan->recipients.push_back(std::move(disclosure));
  }
  for (const std::string& party : unconnected) {
    plan->refusals.push_back(
        {party, "the home municipality has no party in infoflyt", brought_in_by});
  }
  return Status::Ok();
}

void PlanEscalation(const v1::Envelope& envelope, const Catalogs& catalogs,
                    const std::string& municipality, const std::string& basis_id,
                    const std::string& answerable, const std::string& note, DisclosurePlan* plan) {
  std::vector<const Party*> to;
  if (const Party* p = catalogs.parties.FindByKey(answerable)) to.push_back(p);
  const Municipality* home = catalogs.places.Find(municipality.substr(municipality.find('/') + 1));
  if (home != nullptr) {
    if (const Party* police = catalogs.parties.PoliceFor(home->police_district)) {
      to.push_back(police);
    }
  }
  std::sort(to.begin(), to.end(),
            [](const Party* a, const Party* b) { return a->Key() < b->Key(); });
  to.erase(std::unique(to.begin(), to.end()), to.end());
  const LegalBasis* basis = catalogs.legal_bases.Find(basis_id);
  const std::optional<PartyKind> from = KindOfKey(answerable);
  ViewRenderer renderer;
  for (const Party* p : to) {
    const std::string party = p->Key();
    const Flow* flow = basis == nullptr || !from ? nullptr
                                                 : catalogs.legal_bases.Decide(
                                                       basis->id, *from, p->kind, kEscalationType);
    if (flow == nullptr) {
      plan->refusals.push_back({party,
                                basis == nullptr || !from
                                    ? "legal basis " + basis_id + " is not in the catalogue"
                                    : NoFlow(*basis, *from, p->kind, kEscalationType),
                                answerable});
      continue;
    }
    if (!flow->Carries(envelope.handling())) {
      plan->refusals.push_back({party,
                                "the escalation flow to " + std::string(PartyKindName(p->kind)) +
                                    " carries at most " + HandlingName(flow->max_handling),
                                answerable});
      continue;
    }
    RecipientDisclosure r;
    r.party = party;
    r.note = note;
    r.on_behalf_of = answerable;
    renderer.Render(envelope, *flow, &r);
    plan->recipients.push_back(std::move(r));
  }
}

}  // namespace infoflyt
