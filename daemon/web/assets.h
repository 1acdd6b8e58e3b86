// The web port's static files and page templates, built into the binary (web/assets/ and
// web/templates/ in the source tree, and the npm packages the pages use), so a daemon serves the
// pages it was built with and loads nothing from anywhere at run time.
#pragma once

#include <string_view>

namespace infoflyt {

struct WebAsset {
  std::string_view name;  // e.g. "app.css", "chart.umd.js"
  std::string_view content_type;
  std::string_view content;
};

// The asset served at /assets/<name>, or nullptr.
const WebAsset* FindAsset(std::string_view name);

// The mustache template web/templates/<name>.mustache; empty if there is none.
std::string_view FindTemplate(std::string_view name);

}  // namespace infoflyt
