// Startup and operational log lines on stderr, one line each, logfmt style so journald and log
// shippers can parse them. Callers must never pass personal data; identity numbers in particular
// are never logged.
#pragma once

#include <string_view>

namespace infoflyt {

enum class LogLevel { kInfo, kWarning, kError };

void Log(LogLevel level, std::string_view message);
inline void LogInfo(std::string_view message) { Log(LogLevel::kInfo, message); }
inline void LogWarning(std::string_view message) { Log(LogLevel::kWarning, message); }
inline void LogError(std::string_view message) { Log(LogLevel::kError, message); }

}  // namespace infoflyt
