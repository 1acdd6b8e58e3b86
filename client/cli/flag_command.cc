#include "flag_command.h"

#include <google/protobuf/util/time_util.h>

#include <iostream>
#include <map>

namespace infoflyt::cli {
namespace {

using google::protobuf::util::TimeUtil;

void PrintFlag(const v1::FlagRecord& f, Format format) {
  if (format == Format::kJson) return PrintJson(f);
  std::cout << f.flag_id() << "  " << v1::FlagReason_Name(f.reason()) << "  by " << f.flagged_by()
            << " under " << f.legal_basis() << "  since " << TimeUtil::ToString(f.flagged_at())
            << (f.has_expires_at() ? "  until " + TimeUtil::ToString(f.expires_at()) : "")
            << (f.active() ? "  active" : "  ended") << std::endl;
}

}  // namespace

int RunFlagCommand(client::ExchangeClient& client, Format format, bool add, bool remove,
                   const std::string& reason, const std::string& expires,
                   v1::FlagRequest flag_request, const std::string& flag_id, bool include_inactive,
                   v1::ListFlagsRequest list_request) {
  v1::FlagRecord flag;
  if (add) {
    static const std::map<std::string, v1::FlagReason> kReasons = {
        {"returned-foreign-fighter", v1::FLAG_REASON_RETURNED_FOREIGN_FIGHTER},
        {"terror-convict", v1::FLAG_REASON_TERROR_CONVICT},
        {"radicalisation-concern", v1::FLAG_REASON_RADICALISATION_CONCERN}};
    const auto it = kReasons.find(reason);
    if (it == kReasons.end()) {
      std::cerr << "infoflyt: --reason: must be one of returned-foreign-fighter, terror-convict, "
                   "radicalisation-concern\n";
      return kExitUsage;
    }
    flag_request.set_reason(it->second);
    if (!expires.empty() && !TimeUtil::FromString(expires, flag_request.mutable_expires_at())) {
      std::cerr << "infoflyt: --expires: not an RFC 3339 time\n";
      return kExitUsage;
    }
    const grpc::Status s = client.Flag(flag_request, &flag);
    if (!s.ok()) return ReportError(s, format);
    PrintFlag(flag, format);
    return kExitOk;
  }
  if (remove) {
    const grpc::Status s = client.Unflag(flag_id, &flag);
    if (!s.ok()) return ReportError(s, format);
    PrintFlag(flag, format);
    return kExitOk;
  }
  list_request.set_include_inactive(include_inactive);
  v1::ListFlagsResponse response;
  const grpc::Status s = client.ListFlags(list_request, &response);
  if (!s.ok()) return ReportError(s, format);
  for (const auto& f : response.flags()) PrintFlag(f, format);
  return kExitOk;
}

}  // namespace infoflyt::cli
