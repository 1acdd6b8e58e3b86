// Status: the result of an operation that can fail, LevelDB style. Codes are numbered as gRPC
// status codes so the server layer maps them one to one, but nothing here depends on gRPC.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace infoflyt {

enum class Code {
  kOk = 0,
  kCancelled = 1,
  kInvalidArgument = 3,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,  // A conflict with a concurrent change; retry.
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,  // Stored data is unreadable or was changed.
  kUnauthenticated = 16,
};

// One rejected request field: its path and why. Never contains an identity number.
struct FieldViolation {
  std::string field;
  std::string description;
};

class Status {
 public:
  Status() = default;  // OK.
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  // INVALID_ARGUMENT whose message lists every violation ("field: why; ...").
  static Status InvalidArgument(std::vector<FieldViolation> violations);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::vector<FieldViolation>& violations() const { return violations_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::vector<FieldViolation> violations_;
};

}  // namespace infoflyt
