#include "base/log.h"

#include <cstdio>
#include <string>

#include "base/clock.h"

namespace infoflyt {

void Log(LogLevel level, std::string_view message) {
  const char* name = level == LogLevel::kInfo      ? "info"
                     : level == LogLevel::kWarning ? "warning"
                                                   : "error";
  std::string line = "ts=" + FormatRfc3339(NowMicros()) + " level=" + name + " msg=\"";
  line.append(message);
  line += "\"\n";
  // One fwrite per line keeps lines from concurrent threads whole.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace infoflyt
