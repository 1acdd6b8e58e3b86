#include "base/log.h"

#include <cstdio>
#include <string>

#include "base/clock.h"

namespace infoflyt {
namespace {

const char* LevelName(LogLevel level) {
  return level == LogLevel::kInfo ? "info" : level == LogLevel::kWarning ? "warning" : "error";
}

// logfmt: bare if it can be (and `quote` is false), else in double quotes with \" \\ and \n
// escaped.
void AppendValue(std::string_view value, bool quote, std::string* line) {
  if (!quote && !value.empty() && value.find_first_of(" =\"\\\n\t") == std::string_view::npos) {
    line->append(value);
    return;
  }
  *line += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') *line += '\\';
    if (c == '\n') {
      *line += "\\n";
      continue;
    }
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
