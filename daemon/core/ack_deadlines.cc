#include "core/ack_deadlines.h"

#include <algorithm>

#include "base/clock.h"
#include "core/message_body.h"
#include "core/time_util.h"

namespace infoflyt {
namespace {

// The time the notice announces, if the body has one a deadline can be set before.
std::optional<int64_t> EventTime(const v1::Envelope& envelope) {
  if (!envelope.has_release_notice() || !envelope.release_notice().has_planned_at()) {
    return std::nullopt;
  }
  return ToMicros(envelope.release_notice().planned_at());
}

}  // namespace

std::optional<int64_t> AckDeadlines::For(const v1::Envelope& envelope, int64_t posted) const {
  const auto rule = rules_.find(std::string(BodyOf(envelope).type));
  if (rule == rules_.end()) return std::nullopt;
  const AckDeadlineRule& r = rule->second;
  std::optional<int64_t> deadline;
  if (r.within) deadline = posted + *r.within;
  const auto event = EventTime(envelope);
  if (r.before_event && event) {
    const int64_t before = *event - *r.before_event;
    deadline = deadline ? std::min(*deadline, before) : before;
  }
  if (!deadline) return std::nullopt;
  return std::max(*deadline, posted + r.at_least);
}

}  // namespace infoflyt
