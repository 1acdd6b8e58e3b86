#include "base/duration.h"

#include <string>

#include "base/clock.h"

namespace infoflyt {

// Hand-written: toml++ has no duration type and Debian ships no small duration parser.
Status ParseDuration(std::string_view text, int64_t* micros) {
  const auto bad = [&] {
    return Status{Code::kInvalidArgument,
                  "'" + std::string(text) + "' is not a duration like 90s, 15m, 24h, 2d or 1h30m"};
  };
  if (text.empty()) return bad();
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    int64_t n = 0;
    const size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 6) {
      n = n * 10 + (text[i++] - '0');
    }
    if (i == start || i == text.size()) return bad();
    int64_t unit_seconds = 0;
    switch (text[i++]) {
      case 's':
        unit_seconds = 1;
        break;
      case 'm':
        unit_seconds = 60;
        break;
      case 'h':
        unit_seconds = 3600;
        break;
      case 'd':
        unit_seconds = 86400;
        break;
      default:
        return bad();
    }
    total += n * unit_seconds * kMicrosPerSecond;
  }
  *micros = total;
  return Status::Ok();
}

}  // namespace infoflyt
