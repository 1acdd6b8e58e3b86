#include "core/message_body.h"

namespace infoflyt {
namespace {

template <typename Body>
MessageBody Make(std::string_view type, const Body& body) {
  return {type, &body.person(), body.home_municipality()};
}

}  // namespace

MessageBody BodyOf(const v1::Envelope& envelope) {
  switch (envelope.body_case()) {
    case v1::Envelope::kReleaseNotice:
      return Make("release_notice", envelope.release_notice());
    case v1::Envelope::kReturnNotice:
      return Make("return_notice", envelope.return_notice());
    case v1::Envelope::kCaseUpdate:
      return Make("case_update", envelope.case_update());
    case v1::Envelope::kConcernReport:
      return Make("concern_report", envelope.concern_report());
    case v1::Envelope::kEscalationNotice:
      return {"escalation_notice", nullptr, {}};
    case v1::Envelope::BODY_NOT_SET:
      break;
  }
  return {};
}

}  // namespace infoflyt
