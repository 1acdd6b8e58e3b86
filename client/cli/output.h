// How the CLI prints results and errors: readable text by default, or with `-o json` one JSON
// object per line (proto3 JSON mapping) for scripts.
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/support/status.h>

#include <string>

#include "infoflyt/v1/exchange.pb.h"

namespace infoflyt::cli {

enum class Format { kText, kJson };

// Exit codes follow sysexits(3), so scripts can tell bad input from an unreachable server.
enum ExitCode {
  kExitOk = 0,
  kExitUsage = 64,        // EX_USAGE: bad command line.
  kExitDataErr = 65,      // EX_DATAERR: INVALID_ARGUMENT.
  kExitNoInput = 66,      // EX_NOINPUT: NOT_FOUND.
  kExitUnavailable = 69,  // EX_UNAVAILABLE: server unreachable or UNAVAILABLE.
  kExitSoftware = 70,     // EX_SOFTWARE: INTERNAL and anything unexpected.
  kExitIoErr = 74,        // EX_IOERR: a file could not be written.
  kExitTempFail = 75,     // EX_TEMPFAIL: DEADLINE_EXCEEDED, ABORTED: try again.
  kExitProtocol = 76,     // EX_PROTOCOL: FAILED_PRECONDITION (e.g. idempotency key reused).
  kExitNoPerm = 77,       // EX_NOPERM: UNAUTHENTICATED or PERMISSION_DENIED.
};

int ExitCodeFor(const grpc::Status& status);
// Prints a failed call to stderr (text, or JSON with code, message and field violations) and
// returns its exit code.
int ReportError(const grpc::Status& status, Format format);

// `text` with every identity number (a run of exactly 11 digits: fødselsnummer, D-number)
// replaced by "<identity number>", for messages that may echo what the user typed.
std::string RedactIdentityNumbers(std::string text);

// The proto3 JSON of `message` with the .proto field names, on one line.
std::string ToJson(const google::protobuf::Message& message);
// `s` as a JSON string literal.
std::string JsonQuote(const std::string& s);
void PrintJson(const google::protobuf::Message& message);
void PrintReceipt(const v1::Receipt& receipt, Format format);
void PrintDelivery(const v1::Delivery& delivery, Format format);
void PrintMessageStatus(const v1::MessageStatus& status, Format format);

}  // namespace infoflyt::cli
