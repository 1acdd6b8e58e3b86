// Admits the first event of each key per window and counts the rest, so that a misbehaving
// peer cannot flood what operators read or what the disclosure log keeps. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace infoflyt {

class RateBound {
 public:
  // At most one admitted event per key per `window_micros`; at most `max_keys` keys are
  // remembered (beyond that, expired windows are forgotten; while all are live, events of new
  // keys are not admitted).
  RateBound(int64_t window_micros, size_t max_keys) : window_(window_micros), max_keys_(max_keys) {}

  // Whether the event of `key` at `now` (micros) is to be recorded; if so, `suppressed` is the
  // number of its events not admitted since its last admitted one.
  bool Admit(const std::string& key, int64_t now, uint64_t* suppressed);
  // The event last admitted for `key` was not recorded after all (e.g. its write failed), nor
  // the `suppressed` it reported: the next one is admitted, counting them all as left out.
  void Retract(const std::string& key, uint64_t suppressed);

 private:
  struct Window {
    int64_t start = 0;
    uint64_t suppressed = 0;
  };
  const int64_t window_;
  const size_t max_keys_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;
};

}  // namespace infoflyt
