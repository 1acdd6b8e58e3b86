#include "core/disclosure_view.h"

#include <google/protobuf/field_mask.pb.h>
#include <google/protobuf/util/field_mask_util.h>

namespace infoflyt {

v1::Envelope ApplyView(const v1::Envelope& envelope, const Flow& flow) {
  v1::Envelope out = envelope;
  if (flow.whole_body() || out.body_case() == v1::Envelope::BODY_NOT_SET) return out;
  google::protobuf::FieldMask mask;
  for (const auto& path : flow.view) mask.add_paths(path);
  const auto* body_field = v1::Envelope::descriptor()->FindFieldByNumber(out.body_case());
  google::protobuf::Message* body = v1::Envelope::GetReflection()->MutableMessage(&out, body_field);
  google::protobuf::util::FieldMaskUtil::TrimMessage(mask, body);
  return out;
}

}  // namespace infoflyt
