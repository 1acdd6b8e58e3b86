#include "output.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <cctype>
#include <iostream>

#include "infoflyt_client.h"

namespace infoflyt::cli {
namespace {

using google::protobuf::util::TimeUtil;

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    default:
      return "ERROR";
  }
}

std::string Time(const google::protobuf::Timestamp& t) { return TimeUtil::ToString(t); }

}  // namespace

std::string JsonQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string RedactIdentityNumbers(std::string text) {
  constexpr size_t kDigits = 11;
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j == i) {
      out += text[i++];
      continue;
    }
    // Longer runs (timestamps, ids) are left alone: an identity number is exactly 11 digits.
    out += j - i == kDigits ? std::string("<identity number>") : text.substr(i, j - i);
    i = j;
  }
  return out;
}

int ExitCodeFor(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return kExitOk;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return kExitDataErr;
    case grpc::StatusCode::NOT_FOUND:
      return kExitNoInput;
    case grpc::StatusCode::UNAVAILABLE:
      return kExitUnavailable;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::ABORTED:  // e.g. the rules changed while a post was decided.
      return kExitTempFail;
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ALREADY_EXISTS:
      return kExitProtocol;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return kExitNoPerm;
    default:
      return kExitSoftware;
  }
}

int ReportError(const grpc::Status& status, Format format) {
  const auto violations = client::FieldViolationsOf(status);
  if (format == Format::kJson) {
    std::string out = "{\"error\":{\"code\":" + JsonQuote(CodeName(status.error_code())) +
                      ",\"message\":" + JsonQuote(RedactIdentityNumbers(status.error_message())) +
                      ",\"fieldViolations\":[";
    for (size_t i = 0; i < violations.size(); ++i) {
      out += (i ? "," : "") + std::string("{\"field\":") + JsonQuote(violations[i].field) +
             ",\"description\":" + JsonQuote(RedactIdentityNumbers(violations[i].description)) +
             "}";
    }
    std::cerr << out << "]}}\n";
  } else if (!violations.empty()) {
    std::cerr << "infoflyt: " << CodeName(status.error_code()) << ":\n";
    for (const auto& v : violations) {
      std::cerr << "  " << v.field << ": " << RedactIdentityNumbers(v.description) << "\n";
    }
  } else {
    std::cerr << "infoflyt: " << CodeName(status.error_code()) << ": "
              << RedactIdentityNumbers(status.error_message()) << "\n";
  }
  return ExitCodeFor(status);
}

std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

void PrintJson(const google::protobuf::Message& message) {
  std::cout << ToJson(message) << std::endl;
}

void PrintReceipt(const v1::Receipt& r, Format format) {
  if (format == Format::kJson) return PrintJson(r);
  std::cout << (r.duplicate() ? "already posted (idempotent retry): " : "posted: ")
            << r.message_id() << "\naccepted at: " << Time(r.accepted_at()) << "\nrecipients:";
  for (const auto& p : r.recipients()) std::cout << " " << p;
  for (const auto& refused : r.refused()) {
    std::cout << "\nrefused: " << refused.party() << " (" << refused.reason() << ")";
  }
  std::cout << std::endl;
}

void PrintDelivery(const v1::Delivery& d, Format format) {
  if (format == Format::kJson) return PrintJson(d);
  std::cout << "delivery " << d.delivery_id() << ": message " << d.message_id() << " from "
            << d.sender() << " at " << Time(d.posted_at())
            << (d.acknowledged() ? " (acknowledged)" : "");
  if (d.unreadable()) {
    std::cout << ": UNREADABLE (its stored body could not be read; ask the sender to post it "
                 "again)"
              << std::endl;
    return;
  }
  if (d.erased()) {
    std::cout << ": ERASED (its body was erased under the retention rules of its legal basis)"
              << std::endl;
    return;
  }
  const auto& e = d.envelope();
  const auto* body = v1::Envelope::GetDescriptor()->FindFieldByNumber(e.body_case());
  std::cout << "\n  " << (body ? body->name() : "empty") << " under " << e.legal_basis() << ", "
            << v1::HandlingRestriction_Name(e.handling()) << "\n  ";
  if (body) std::cout << ToJson(v1::Envelope::GetReflection()->GetMessage(e, body));
  std::cout << std::endl;
}

void PrintMessageStatus(const v1::MessageStatus& s, Format format) {
  if (format == Format::kJson) return PrintJson(s);
  std::cout << "message " << s.message_id() << " (" << s.message_type() << ") posted "
            << Time(s.posted_at()) << "\n";
  for (const auto& r : s.recipients()) {
    std::cout << "  " << r.party() << ": " << v1::DeliveryState_Name(r.state());
    if (r.has_received_at()) std::cout << " received " << Time(r.received_at());
    if (r.has_acknowledged_at()) std::cout << " acknowledged " << Time(r.acknowledged_at());
    if (r.has_ack_deadline()) std::cout << " deadline " << Time(r.ack_deadline());
    if (r.has_escalated_at()) std::cout << " escalated " << Time(r.escalated_at());
    if (r.has_unreadable_at()) {
      std::cout << " UNREADABLE (sent without its body " << Time(r.unreadable_at())
                << ": post it again)";
    }
    if (r.has_erased_at()) std::cout << " ERASED (its body, " << Time(r.erased_at()) << ")";
    std::cout << "\n";
  }
  std::cout << std::flush;
}

}  // namespace infoflyt::cli
