#include "core/router.h"

#include <algorithm>
#include <string>

#include "core/message_body.h"

namespace infoflyt {
namespace {

Status NotAllowed(const Party& sender, std::string_view type) {
  return {Code::kPermissionDenied, "a " + std::string(PartyKindName(sender.kind)) +
                                       " party may not post " + std::string(type)};
}

}  // namespace

Status Route(const Party& sender, const v1::Envelope& envelope, const Places& places,
             const PartyRegistry& parties, std::vector<const Party*>* recipients,
             bool subject_flagged, std::vector<std::string>* unconnected) {
  const MessageBody body = BodyOf(envelope);
  const Municipality* home = places.Find(body.home_municipality);
  if (home == nullptr) {
    return {Code::kInvalidArgument, "home municipality is unknown"};
  }
  const Party* district_police = parties.PoliceFor(home->police_district);
  const auto& pst = parties.OfKind(PartyKind::kPst);

  std::vector<const Party*> out;
  auto add_municipality = [&] {
    const Party* municipality = parties.Find(PartyKind::kMunicipality, home->number);
    if (municipality != nullptr) {
      out.push_back(municipality);
    } else if (unconnected != nullptr) {
      unconnected->push_back("municipality/" + home->number);
    }
  };
  switch (envelope.body_case()) {
    case v1::Envelope::kReleaseNotice:
      if (sender.kind != PartyKind::kCorrectional) return NotAllowed(sender, body.type);
      out.push_back(district_police);
      out.insert(out.end(), pst.begin(), pst.end());
      if (subject_flagged) add_municipality();
      break;
    case v1::Envelope::kReturnNotice:
      if (sender.kind != PartyKind::kPst) return NotAllowed(sender, body.type);
      out.push_back(district_police);
      add_municipality();
      break;
    case v1::Envelope::kCaseUpdate:
      if (sender.kind != PartyKind::kPolice && sender.kind != PartyKind::kPst) {
        return NotAllowed(sender, body.type);
      }
      out.push_back(district_police);
      out.insert(out.end(), pst.begin(), pst.end());
      break;
    case v1::Envelope::kConcernReport:
      if (sender.kind == PartyKind::kMunicipality) {
        out.push_back(district_police);
      } else if (sender.kind == PartyKind::kPolice) {
        out.insert(out.end(), pst.begin(), pst.end());
      } else {
        return NotAllowed(sender, body.type);
      }
      break;
    case v1::Envelope::kEscalationNotice:  // Addressed by the escalator, never routed.
    case v1::Envelope::BODY_NOT_SET:
      return {Code::kInvalidArgument, "envelope has no routable body"};
  }
  std::erase_if(out, [&](const Party* p) { return p == nullptr || p->Key() == sender.Key(); });
  std::sort(out.begin(), out.end(),
            [](const Party* a, const Party* b) { return a->Key() < b->Key(); });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (out.empty()) {
    return {Code::kFailedPrecondition, "no party other than the sender receives this message"};
  }
  *recipients = std::move(out);
  return Status::Ok();
}

}  // namespace infoflyt
