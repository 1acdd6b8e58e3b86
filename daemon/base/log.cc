#include "base/log.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "base/clock.h"

namespace infoflyt {
namespace {

const char* LevelName(LogLevel level) {
  return level == LogLevel::kInfo ? "info" : level == LogLevel::kWarning ? "warning" : "error";
}

bool IsControl(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

// logfmt: bare if it can be (and `quote` is false), else in double quotes, a quote or backslash
// escaped by a backslash and control characters written as \xNN, so that no value (e.g. a
// certificate's URI SAN) can forge a line or a field.
void AppendValue(std::string_view value, bool quote, std::string* line) {
  const bool plain = !value.empty() && std::none_of(value.begin(), value.end(), [](char c) {
    return c == ' ' || c == '=' || c == '"' || c == '\\' || IsControl(c);
  });
  if (!quote && plain) {
    line->append(value);
    return;
  }
  *line += '"';
  for (char c : value) {
    if (IsControl(c)) {
      constexpr char kHex[] = "0123456789abcdef";
      const auto u = static_cast<unsigned char>(c);
      *line += "\\x";
      *line += kHex[u >> 4];
      *line += kHex[u & 0xf];
      continue;
    }
    if (c == '"' || c == '\\') *line += '\\';
    *line += c;
  }
  *line += '"';
}

// One fwrite per line keeps lines from concurrent threads whole.
void Write(std::string line) {
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

void Log(LogLevel level, std::string_view message) {
  std::string line = "ts=" + FormatRfc3339(NowMicros()) + " level=" + LevelName(level) + " msg=";
  AppendValue(message, true, &line);  // msg is always quoted.
  Write(std::move(line));
}

void LogFields(LogLevel level, const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string line = "ts=" + FormatRfc3339(NowMicros()) + " level=" + LevelName(level);
  for (const auto& [name, value] : fields) {
    line += ' ' + name + '=';
    AppendValue(value, false, &line);
  }
  Write(std::move(line));
}

}  // namespace infoflyt
