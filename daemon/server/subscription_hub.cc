#include "server/subscription_hub.h"

namespace infoflyt {

bool SubscriptionHub::TryAdd(const std::string& party, size_t limit, Wake wake, uint64_t* handle) {
  std::lock_guard lock(mu_);
  if (by_party_.count(party) >= limit) return false;
  *handle = next_handle_++;
  entries_.emplace(*handle, Entry{party, std::move(wake)});
  by_party_.emplace(party, *handle);
  return true;
}

void SubscriptionHub::Remove(uint64_t handle) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(handle);
  if (it == entries_.end()) return;
  auto [first, last] = by_party_.equal_range(it->second.party);
  for (auto p = first; p != last; ++p) {
    if (p->second == handle) {
      by_party_.erase(p);
      break;
    }
  }
  entries_.erase(it);
}

void SubscriptionHub::Notify(const std::vector<std::string>& parties) {
  std::lock_guard lock(mu_);
  for (const std::string& party : parties) {
    auto [first, last] = by_party_.equal_range(party);
    for (auto p = first; p != last; ++p) entries_.at(p->second).wake();
  }
}

void SubscriptionHub::NotifyAll() {
  std::lock_guard lock(mu_);
  for (auto& [handle, entry] : entries_) entry.wake();
}

}  // namespace infoflyt
