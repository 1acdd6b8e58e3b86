// The facts the daemon loads at start and reloads on SIGHUP: places, parties and legal bases.
// A snapshot is immutable; a reload builds a new one and swaps it in whole.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/legal_basis.h"
#include "core/parties.h"
#include "core/places.h"

namespace infoflyt {

struct Catalogs {
  Places places;
  PartyRegistry parties;
  LegalBasisCatalogue legal_bases;
  // What they were parsed from, by name ("legal-bases", "parties", ...): the texts a "policy"
  // record keeps, so an auditor can read the rules that governed any disclosure.
  std::vector<std::pair<std::string, std::string>> sources;
  // Which recorded rules these are (PolicyOp.generation); messages decided under them carry it.
  uint64_t policy = 0;
};

// The legal-basis catalogue of `catalogs`, sharing the snapshot's lifetime (for store ops that
// carry the rules they were decided under).
inline std::shared_ptr<const LegalBasisCatalogue> LegalBasesOf(
    const std::shared_ptr<const Catalogs>& catalogs) {
  return {catalogs, &catalogs->legal_bases};
}

// The current snapshot, shared by all calls; a call keeps the snapshot it started with.
class CatalogsHolder {
 public:
  explicit CatalogsHolder(std::shared_ptr<const Catalogs> initial) : current_(std::move(initial)) {}

  std::shared_ptr<const Catalogs> Get() const {
    std::lock_guard lock(mu_);
    return current_;
  }
  void Set(std::shared_ptr<const Catalogs> next) {
    std::lock_guard lock(mu_);
    current_ = std::move(next);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Catalogs> current_;
};

}  // namespace infoflyt
