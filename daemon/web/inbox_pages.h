// The inbox of a municipality, a police district or PST (GET /inbox, and /inbox/list, the list
// alone, which the page fetches again when /inbox/events says something changed); a delivery's
// page (GET /deliveries/<id>) with exactly what the recipient's view holds; and its
// acknowledgement (POST /deliveries/<id>/ack), which is the Ack call's act and record.
#pragma once

#include "server/exchange_actions.h"
#include "web/web_server.h"

namespace infoflyt {

void AddInboxPages(WebServer* server, const ServiceContext* ctx, ExchangeActions* actions);

}  // namespace infoflyt
