// GET /: the pages the signed-in party may use.
#pragma once

#include "web/web_server.h"

namespace infoflyt {

void AddHomePage(WebServer* server);

}  // namespace infoflyt
