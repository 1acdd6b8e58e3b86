#include "log_file.h"

#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/util/delimited_message_util.h>
#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <istream>
#include <ostream>
#include <vector>

namespace infoflyt::client {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

bool HasUnknownFields(const google::protobuf::Message& message) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  if (!reflection->GetUnknownFields(message).empty()) return true;
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        if (HasUnknownFields(reflection->GetRepeatedMessage(message, field, i))) return true;
      }
    } else if (HasUnknownFields(reflection->GetMessage(message, field))) {
      return true;
    }
  }
  return false;
}

bool LogFormatFromName(std::string_view name, LogFormat* format) {
  if (name == "jsonl") {
    *format = LogFormat::kJsonLines;
  } else if (name == "pb") {
    *format = LogFormat::kBinary;
  } else {
    return false;
  }
  return true;
}

bool LogFormatFromPath(std::string_view path, LogFormat* format) {
  if (EndsWith(path, ".jsonl")) return LogFormatFromName("jsonl", format);
  if (EndsWith(path, ".pb")) return LogFormatFromName("pb", format);
  return false;
}

Status LogWriter::Write(const v1::LogEntry& entry) {
  if (format_ == LogFormat::kBinary) {
    if (!google::protobuf::util::SerializeDelimitedToOstream(entry, out_)) {
      return {Code::kInternal, "cannot write the export file"};
    }
    return Status::Ok();
  }
  if (HasUnknownFields(entry.record())) {
    return {Code::kInvalidArgument,
            "record " + std::to_string(entry.record().index()) +
                " has fields this infoflyt does not know (the daemon is newer); JSON would drop "
                "them, so export with --format pb or upgrade infoflyt"};
  }
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  if (auto s = google::protobuf::util::MessageToJsonString(entry, &json, options); !s.ok()) {
    return {Code::kInternal, "cannot convert record " + std::to_string(entry.record().index()) +
                                 " to JSON: " + s.ToString()};
  }
  *out_ << json << '\n';
  if (!*out_) return {Code::kInternal, "cannot write the export file"};
  return Status::Ok();
}

Status ReadLog(std::istream& in, LogFormat format, std::vector<v1::LogEntry>* entries) {
  entries->clear();
  if (format == LogFormat::kBinary) {
    google::protobuf::io::IstreamInputStream stream(&in);
    for (;;) {
      v1::LogEntry entry;
      bool clean_eof = false;
      if (!google::protobuf::util::ParseDelimitedFromZeroCopyStream(&entry, &stream, &clean_eof)) {
        if (clean_eof) break;
        return {Code::kInvalidArgument, "entry " + std::to_string(entries->size()) +
                                            " of the file: not a length-delimited LogEntry "
                                            "(corrupt, cut off, or not a .pb export)"};
      }
      entries->push_back(std::move(entry));
    }
    if (in.bad()) return {Code::kInternal, "error reading the export file"};
    return Status::Ok();
  }
  // Unknown fields are an error, not skipped: a record that lost a field would no longer match
  // its leaf, and would be blamed for it.
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  std::string line;
  for (uint64_t line_number = 1; std::getline(in, line); ++line_number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    v1::LogEntry entry;
    if (auto s = google::protobuf::util::JsonStringToMessage(line, &entry, options); !s.ok()) {
      return {Code::kInvalidArgument,
              "line " + std::to_string(line_number) + ": not a LogEntry in JSON: " + s.ToString()};
    }
    entries->push_back(std::move(entry));
  }
  if (in.bad()) return {Code::kInternal, "error reading the export file"};
  return Status::Ok();
}

Status ReadLogFile(const std::string& path, LogFormat format, std::vector<v1::LogEntry>* entries) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {Code::kNotFound, "cannot open " + path};
  return ReadLog(in, format, entries);
}

}  // namespace infoflyt::client
