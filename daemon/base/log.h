// Startup and operational log lines on stderr, one line each, logfmt style so journald and log
// shippers can parse them. Callers must never pass personal data; identity numbers in particular
// are never logged.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace infoflyt {

enum class LogLevel { kInfo, kWarning, kError };

void Log(LogLevel level, std::string_view message);
inline void LogInfo(std::string_view message) { Log(LogLevel::kInfo, message); }
inline void LogWarning(std::string_view message) { Log(LogLevel::kWarning, message); }
inline void LogError(std::string_view message) { Log(LogLevel::kError, message); }

// A line of named fields after ts and level, e.g. event=auth_refused reason="no clientAuth",
// for events a machine must be able to pick out. Values are quoted where logfmt needs it.
void LogFields(LogLevel level, const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace infoflyt
