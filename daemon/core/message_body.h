// Uniform access to the parts every message body has (person, home municipality), so
// validation, routing and the store need not switch on the body type each time.
#pragma once

#include <string>
#include <string_view>

#include "infoflyt/v1/messages.pb.h"

namespace infoflyt {

struct MessageBody {
  std::string_view type;  // "release_notice", ...; empty if the envelope has no body.
  // Null for an escalation notice, which names no person (and is never posted by a party).
  const v1::Person* person = nullptr;
  std::string_view home_municipality;
};

MessageBody BodyOf(const v1::Envelope& envelope);

}  // namespace infoflyt
