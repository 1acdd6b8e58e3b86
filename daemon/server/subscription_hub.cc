#include "server/subscription_hub.h"

namespace infoflyt {

bool SubscriptionHub::TryAdd(const Caller& caller, size_t limit, Wake wake, End end,
                             uint64_t* handle, Pool pool) {
  const std::string party = caller.party.Key();
  std::lock_guard lock(mu_);
  auto [first, last] = by_party_.equal_range(party);
  size_t open = 0;
  for (auto p = first; p != last; ++p) open += entries_.at(p->second).pool == pool ? 1 : 0;
  if (open >= limit) return false;
  *handle = next_handle_++;
  entries_.emplace(*handle, Entry{caller, std::move(wake), std::move(end), pool});
  by_party_.emplace(party, *handle);
  return true;
}

void SubscriptionHub::Remove(uint64_t handle) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(handle);
  if (it == entries_.end()) return;
  auto [first, last] = by_party_.equal_range(it->second.caller.party.Key());
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

size_t SubscriptionHub::EndRefused(
    const std::function<Status(const Caller&, std::string* reason)>& check) {
  std::lock_guard lock(mu_);
  size_t ended = 0;
  for (auto& [handle, entry] : entries_) {
    std::string reason;
    if (Status s = check(entry.caller, &reason); !s.ok()) {
      entry.end(s, reason);
      ++ended;
    }
  }
  return ended;
}

}  // namespace infoflyt
