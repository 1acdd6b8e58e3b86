#include "ops/health.h"

namespace infoflyt {

void Health::Set(const std::string& check, State state, std::string detail) {
  std::lock_guard lock(mu_);
  checks_[check] = Entry{state, std::move(detail)};
}

bool Health::Report(std::string* body) const {
  std::lock_guard lock(mu_);
  bool ok = true;
  std::string lines;
  for (const auto& [check, entry] : checks_) {
    if (entry.state == State::kOk) continue;
    ok = ok && entry.state != State::kFailing;
    lines += std::string(entry.state == State::kFailing ? "failing " : "warning ") + check + ": " +
             entry.detail + "\n";
  }
  *body = (ok ? "ok\n" : "failing\n") + lines;
  return ok;
}

}  // namespace infoflyt
