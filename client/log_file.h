// Export files of the disclosure log, as `infoflyt audit export` writes them and `audit verify`
// reads them: one v1::LogEntry after another, from index 0, either
//   - JSON lines (.jsonl): one entry per line in the proto3 JSON mapping with the .proto field
//     names; readable and greppable, or
//   - binary (.pb): each entry's protobuf encoding preceded by its length as a varint (what
//     protobuf's writeDelimitedTo / SerializeDelimitedToOstream write); exact and compact.
// Both carry every field, so a record read back has the same leaf bytes as the one written.
#pragma once

#include <google/protobuf/message.h>

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "infoflyt/v1/audit.pb.h"

namespace infoflyt::client {

enum class LogFormat { kJsonLines, kBinary };

// "jsonl" or "pb"; false otherwise.
bool LogFormatFromName(std::string_view name, LogFormat* format);
// By the file name's extension, ".jsonl" or ".pb"; false otherwise.
bool LogFormatFromPath(std::string_view path, LogFormat* format);

// Whether `message`, or any message in it, holds fields this build does not know: a newer
// daemon's, which JSON would drop and no check of this build covers.
bool HasUnknownFields(const google::protobuf::Message& message);

// Writes entries to `out` one at a time, so an export can stream to disk. Does not own `out`.
class LogWriter {
 public:
  LogWriter(std::ostream* out, LogFormat format) : out_(out), format_(format) {}

  // INVALID_ARGUMENT for a JSON entry whose record has fields this build does not know (JSON
  // would drop them, and the record would no longer match its leaf: use the binary format);
  // INTERNAL if the stream fails.
  Status Write(const v1::LogEntry& entry);

 private:
  std::ostream* out_;
  LogFormat format_;
};

// Reads every entry of `in`. INVALID_ARGUMENT naming the line (JSON) or entry (binary) that
// does not parse, including JSON with unknown fields and a binary file cut off mid-entry.
Status ReadLog(std::istream& in, LogFormat format, std::vector<v1::LogEntry>* entries);
// ReadLog of a file; NOT_FOUND if it cannot be opened.
Status ReadLogFile(const std::string& path, LogFormat format, std::vector<v1::LogEntry>* entries);

}  // namespace infoflyt::client
