#include "base/rate_bound.h"

#include <limits>

namespace infoflyt {

bool RateBound::Admit(const std::string& key, int64_t now, uint64_t* suppressed) {
  std::lock_guard lock(mu_);
  auto it = windows_.find(key);
  if (it != windows_.end() && now - it->second.start < window_) {
    ++it->second.suppressed;
    return false;
  }
  if (it == windows_.end()) {
    if (windows_.size() >= max_keys_) {
      std::erase_if(windows_, [&](const auto& w) { return now - w.second.start >= window_; });
    }
    // Still full of live windows (many keys at once): admitted nothing new, so that a flood of
    // new keys cannot reset the others' windows.
    if (windows_.size() >= max_keys_) return false;
    it = windows_.emplace(key, Window{}).first;
  }
  *suppressed = it->second.suppressed;
  it->second = Window{now, 0};
  return true;
}

void RateBound::Retract(const std::string& key, uint64_t suppressed) {
  std::lock_guard lock(mu_);
  auto it = windows_.find(key);
  if (it == windows_.end()) return;
  it->second.start = std::numeric_limits<int64_t>::min() / 2;  // Long expired.
  it->second.suppressed += suppressed + 1;
}

}  // namespace infoflyt
