// What a page of the web port gets: the HTTP request (cpp-httplib's) and the party it comes
// from, identified and authorized before the page runs.
#pragma once

#include <httplib.h>

#include <functional>
#include <string>

#include "server/peer_identity.h"

namespace infoflyt {

enum class WebMethod { kGet, kPost };

struct WebRequest {
  const httplib::Request& http;
  Caller caller;
  std::string peer;  // The connection's address as security events show it ("web:host:port").
};

using WebHandler = std::function<void(const WebRequest& request, httplib::Response& response)>;

}  // namespace infoflyt
