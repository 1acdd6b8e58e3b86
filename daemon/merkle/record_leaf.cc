#include "merkle/record_leaf.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "merkle/merkle_hash.h"

namespace infoflyt::merkle {

std::string RecordLeafBytes(const v1::DisclosureRecord& record) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    // Deterministic: field-number order; the record has no maps whose order could vary.
    out.SetSerializationDeterministic(true);
    record.SerializeToCodedStream(&out);
  }
  return bytes;
}

std::string RecordLeafHash(const v1::DisclosureRecord& record) {
  return LeafHash(RecordLeafBytes(record));
}

}  // namespace infoflyt::merkle
