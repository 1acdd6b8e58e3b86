// The leaf bytes of a disclosure record in the log: its protobuf encoding with fields in number
// order and defaults omitted (see proto/infoflyt/v1/audit.proto). Shared by the daemon, which
// appends and proves, and by offline verifiers, which must recompute exactly the same bytes.
#pragma once

#include <google/protobuf/message_lite.h>

#include <string>

#include "infoflyt/v1/audit.pb.h"

namespace infoflyt::merkle {

// Protobuf's deterministic encoding of `message`: fields in number order, defaults omitted.
std::string DeterministicBytes(const google::protobuf::MessageLite& message);

std::string RecordLeafBytes(const v1::DisclosureRecord& record);
// LeafHash(RecordLeafBytes(record)).
std::string RecordLeafHash(const v1::DisclosureRecord& record);

}  // namespace infoflyt::merkle
