// Acknowledgement deadlines for municipal notices: by when a municipality must acknowledge a
// notice about a flagged person before infoflytd escalates to the sender and the police
// district. Configured per message type; pure computation, no clock of its own.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "infoflyt/v1/messages.pb.h"

namespace infoflyt {

// One message type's rule. Durations in microseconds. The deadline is the earliest of
// `posted + within` and `event - before_event` (the event being a release notice's planned_at),
// but never sooner than `posted + at_least`, so an imminent release still leaves time to act.
struct AckDeadlineRule {
  std::optional<int64_t> within;
  std::optional<int64_t> before_event;
  int64_t at_least = 0;
};

class AckDeadlines {
 public:
  // Replaces the rule for `message_type` ("release_notice", ...).
  void Set(const std::string& message_type, AckDeadlineRule rule) { rules_[message_type] = rule; }
  const std::map<std::string, AckDeadlineRule>& rules() const { return rules_; }

  // The deadline for `envelope`'s municipal notice posted at `posted`, or nullopt if its type
  // has no rule (or the rule sets neither `within` nor `before_event`).
  std::optional<int64_t> For(const v1::Envelope& envelope, int64_t posted) const;

 private:
  std::map<std::string, AckDeadlineRule> rules_;
};

}  // namespace infoflyt
