// Pages in the web port's one layout (templates/layout.mustache): Norwegian bokmål first, a skip
// link, the signed-in party, and the navigation its kind may use. Text is HTML-escaped by the
// templates (mustache's {{ }}); only rendered templates are inserted unescaped.
#pragma once

#include <google/protobuf/timestamp.pb.h>
#include <httplib.h>

#include <kainjow/mustache.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "server/peer_identity.h"

namespace infoflyt {

using TemplateData = kainjow::mustache::data;

// The party's name as pages show it (its key if it has none).
std::string PartyName(const Party& party);

// Renders templates/<name>.mustache with `data`.
std::string RenderTemplate(std::string_view name, const TemplateData& data);

// Who may use which pages: the routes' kinds and the navigation both come from here.
const std::vector<PartyKind>& InboxKinds();      // Municipality, police, PST.
const std::vector<PartyKind>& AuditorKinds();    // Auditor.
const std::vector<PartyKind>& ReleaseSenders();  // Correctional.
const std::vector<PartyKind>& ReturnSenders();   // PST, police.
const std::vector<PartyKind>& FlagKinds();       // As the Registry's Flag (kFlagSetters).

// The pages a party of `kind` may use, as a list of {href, text}: the layout's navigation and
// the home page's links.
TemplateData Navigation(PartyKind kind);

// A full page for `caller` titled `title` around `body` (rendered HTML), with the page's own
// scripts /assets/<name>, in order.
std::string RenderPage(const Caller& caller, std::string_view title, const std::string& body,
                       const std::vector<std::string_view>& scripts = {});

// Sets `response` to a page saying why the request failed (`message` may be empty), with
// `status`. It names no party and no personal data.
void SetErrorPage(int status, std::string_view message, httplib::Response* response);

// The HTTP status for a failed act's Status (400, 403, 404, 409, 503, ...).
int HttpStatusOf(const Status& status);
// Sets the error page for a failed act (HttpStatusOf), or for one that did not answer in time.
void SetActErrorPage(const std::optional<Status>& status, httplib::Response* response);

// Sends the rendered page.
void SetPage(const std::string& html, httplib::Response* response);

// "2026-12-02 14:05 UTC" for microseconds since the epoch, or for a Timestamp.
std::string FormatTime(int64_t micros);
std::string FormatTime(const google::protobuf::Timestamp& t);

}  // namespace infoflyt
