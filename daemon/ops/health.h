// What /healthz reports: named checks (e.g. "crl", "grpc"), each fine, a warning or failing.
// Thread-safe; checks set their state from wherever they run.
#pragma once

#include <map>
#include <mutex>
#include <string>

namespace infoflyt {

class Health {
 public:
  enum class State { kOk, kWarning, kFailing };

  void Set(const std::string& check, State state, std::string detail = "");
  // True (HTTP 200) unless a check is failing. `body`: "ok" or "failing", then one line per
  // check that is not fine ("warning <check>: <detail>" / "failing <check>: <detail>").
  bool Report(std::string* body) const;

 private:
  struct Entry {
    State state = State::kOk;
    std::string detail;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> checks_;
};

}  // namespace infoflyt
