#include "unit/test_envelopes.h"

#include <chrono>

namespace infoflyt::testing {
namespace {

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

template <typename Body>
void FillCommon(Body* body, const std::string& national_id, const std::string& municipality) {
  body->mutable_person()->set_national_id(national_id);
  body->mutable_person()->set_given_name("Ola");
  body->mutable_person()->set_family_name("Nordmann");
  body->set_home_municipality(municipality);
  body->mutable_contact()->set_name("Kari Vakt");
  body->mutable_contact()->set_phone("+47 22 00 00 00");
}

}  // namespace

v1::Envelope ReleaseNotice(const std::string& key, const std::string& national_id,
                           const std::string& municipality) {
  v1::Envelope e;
  e.set_idempotency_key(key);
  e.set_legal_basis("strgjfl-4i");
  e.set_handling(v1::TLP_AMBER);
  auto* b = e.mutable_release_notice();
  FillCommon(b, national_id, municipality);
  b->set_kind(v1::RELEASE_KIND_PAROLE);
  b->mutable_planned_at()->set_seconds(NowSeconds() + int64_t{10} * 86400);
  b->set_note("Risk assessment attached to case 2026/17.");
  return e;
}

v1::Envelope ReturnNotice(const std::string& key, const std::string& national_id,
                          const std::string& municipality) {
  v1::Envelope e;
  e.set_idempotency_key(key);
  e.set_legal_basis("polregl-27-2");
  e.set_handling(v1::TLP_AMBER_STRICT);
  auto* b = e.mutable_return_notice();
  FillCommon(b, national_id, municipality);
  b->mutable_returned_at()->set_seconds(NowSeconds() - 86400);
  return e;
}

v1::Envelope CaseUpdate(const std::string& key, const std::string& municipality) {
  v1::Envelope e;
  e.set_idempotency_key(key);
  e.set_legal_basis("polregl-27-1");
  e.set_handling(v1::TLP_AMBER);
  auto* b = e.mutable_case_update();
  FillCommon(b, kValidFnr, municipality);
  b->set_case_reference("2026/17");
  b->set_summary("Moved to a new address.");
  return e;
}

}  // namespace infoflyt::testing
