// What a page of the web port gets: the HTTP request (cpp-httplib's) and the party it comes
// from, identified and authorized before the page runs.
#pragma once

#include <httplib.h>

#include <functional>
#include <string>

#include "server/authorize.h"

namespace infoflyt {

enum class WebMethod { kGet, kPost };

struct WebRequest {
  const httplib::Request& http;
  Caller caller;
  // The connection ("web:host:port") and its certificate, for acts that authorize themselves
  // (the Audit service's recorded reads).
  CallPeer peer;
};

using WebHandler = std::function<void(const WebRequest& request, httplib::Response& response)>;

}  // namespace infoflyt
