// Conversions between the store's microseconds and google.protobuf.Timestamp.
#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>

namespace infoflyt {

inline google::protobuf::Timestamp ToTimestamp(int64_t micros) {
  google::protobuf::Timestamp t;
  t.set_seconds(micros / 1'000'000);
  t.set_nanos(static_cast<int32_t>(micros % 1'000'000) * 1000);
  return t;
}

inline int64_t ToMicros(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1'000'000 + t.nanos() / 1000;
}

}  // namespace infoflyt
