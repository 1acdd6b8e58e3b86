// Forms that post messages: the correctional service's release notice and PST's (or the
// police's) return notice (GET and POST /post/<type>), and a sent message's status page
// (GET /messages/<id>, and /messages/<id>/recipients, the part the page refreshes).
//
// A form's fields are named by their path in the Envelope ("release_notice.person.given_name"),
// so the posted form becomes the PostRequest through protobuf's JSON parser and each field
// violation of the Post act comes back to the field it names: the validation is the API's own,
// with its messages. The form carries an idempotency key made when it was shown, so a double
// click or a resubmitted form posts once.
#pragma once

#include "server/exchange_actions.h"
#include "web/web_server.h"

namespace infoflyt {

void AddPostPages(WebServer* server, const ServiceContext* ctx, ExchangeActions* actions);

}  // namespace infoflyt
