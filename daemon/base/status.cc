#include "base/status.h"

namespace infoflyt {

Status Status::InvalidArgument(std::vector<FieldViolation> violations) {
  std::string message;
  for (const auto& v : violations) {
    if (!message.empty()) message += "; ";
    message += v.field + ": " + v.description;
  }
  Status status(Code::kInvalidArgument, std::move(message));
  status.violations_ = std::move(violations);
  return status;
}

}  // namespace infoflyt
