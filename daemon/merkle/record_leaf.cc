#include "merkle/record_leaf.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "merkle/merkle_hash.h"

namespace infoflyt::merkle {

std::string DeterministicBytes(const google::protobuf::MessageLite& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&out);
  }
  return bytes;
}

// The record has no maps, so its deterministic encoding is unique.
std::string RecordLeafBytes(const v1::DisclosureRecord& record) {
  return DeterministicBytes(record);
}

std::string RecordLeafHash(const v1::DisclosureRecord& record) {
  return LeafHash(RecordLeafBytes(record));
}

}  // namespace infoflyt::merkle
