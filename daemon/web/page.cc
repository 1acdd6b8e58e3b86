#include "web/page.h"

#include <algorithm>
#include <ctime>

#include "core/time_util.h"
#include "server/registry_actions.h"
#include "web/assets.h"

namespace infoflyt {
namespace {

using kainjow::mustache::mustache;

const char* StatusTitle(int status) {
  switch (status) {
    case 400:
      return "Ugyldig forespørsel (Bad request)";
    case 401:
      return "Ikke godkjent sertifikat (Not authenticated)";
    case 403:
      return "Ingen tilgang (Forbidden)";
    case 404:
      return "Fant ikke siden (Not found)";
    case 429:
      return "For mange åpne sider (Too many open pages)";
    case 503:
      return "Tjenesten er utilgjengelig (Unavailable)";
    default:
      return "Noe gikk galt (Error)";
  }
}

std::string Layout(const TemplateData& data) { return RenderTemplate("layout", data); }

}  // namespace

TemplateData Navigation(PartyKind kind) {
  TemplateData links{TemplateData::type::list};
  auto add = [&links](const char* href, const char* text) {
    TemplateData link;
    link.set("href", href);
    link.set("text", text);
    links << link;
  };
  auto may = [kind](const std::vector<PartyKind>& kinds) {
    return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
  };
  if (may(InboxKinds())) add("/inbox", "Innboks");
  if (may(AuditorKinds())) add("/audit", "Søk i loggen");
  if (may(AuditorKinds())) add("/audit/log", "Loggens tilstand");
  if (may(AuditorKinds())) add("/audit/statistics", "Statistikk");
  if (may(ReleaseSenders())) add("/post/release_notice", "Send varsel om løslatelse");
  if (may(ReturnSenders())) add("/post/return_notice", "Send varsel om retur");
  if (may(FlagKinds())) add("/flags/new", "Markér en person");
  return links;
}

const std::vector<PartyKind>& InboxKinds() {
  static const auto* kinds =
      new std::vector<PartyKind>{PartyKind::kMunicipality, PartyKind::kPolice, PartyKind::kPst};
  return *kinds;
}

const std::vector<PartyKind>& FlagKinds() {
  static const auto* kinds = new std::vector<PartyKind>(kFlagSetters);
  return *kinds;
}

const std::vector<PartyKind>& AuditorKinds() {
  static const auto* kinds = new std::vector<PartyKind>{PartyKind::kAuditor};
  return *kinds;
}

const std::vector<PartyKind>& ReleaseSenders() {
  static const auto* kinds = new std::vector<PartyKind>{PartyKind::kCorrectional};
  return *kinds;
}

const std::vector<PartyKind>& ReturnSenders() {
  static const auto* kinds = new std::vector<PartyKind>{PartyKind::kPst, PartyKind::kPolice};
  return *kinds;
}

std::string PartyName(const Party& party) { return party.name.empty() ? party.Key() : party.name; }

std::string RenderTemplate(std::string_view name, const TemplateData& data) {
  mustache page{std::string(FindTemplate(name))};
  return page.render(data);
}

std::string RenderPage(const Caller& caller, std::string_view title, const std::string& body,
                       const std::vector<std::string_view>& scripts) {
  TemplateData data;
  data.set("title", std::string(title));
  data.set("party_name", PartyName(caller.party));
  data.set("party_key", caller.party.Key());
  TemplateData nav = Navigation(caller.party.kind);
  data.set("has_nav", !nav.is_empty_list());
  data.set("nav", nav);
  data.set("body", body);
  TemplateData list{TemplateData::type::list};
  for (std::string_view script : scripts) list << TemplateData("name", std::string(script));
  data.set("scripts", list);
  return Layout(data);
}

void SetErrorPage(int status, std::string_view message, httplib::Response* response) {
  TemplateData data;
  data.set("title", StatusTitle(status));
  TemplateData error;
  error.set("title", StatusTitle(status));
  error.set("message", std::string(message));
  error.set("has_message", !message.empty());  // Mustache takes "" for true.
  data.set("body", RenderTemplate("error", error));
  response->status = status;
  response->set_content(Layout(data), "text/html; charset=utf-8");
}

int HttpStatusOf(const Status& status) {
  switch (status.code()) {
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kAlreadyExists:
    case Code::kFailedPrecondition:
    case Code::kAborted:
      return 409;
    case Code::kResourceExhausted:
    case Code::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

void SetActErrorPage(const std::optional<Status>& status, httplib::Response* response) {
  if (!status) {
    SetErrorPage(503, "Svaret tok for lang tid; prøv igjen om litt.", response);
    return;
  }
  SetErrorPage(HttpStatusOf(*status), status->message(), response);
}

void SetPage(const std::string& html, httplib::Response* response) {
  response->set_content(html, "text/html; charset=utf-8");
}

std::string FormatTime(int64_t micros) {
  const auto seconds = static_cast<std::time_t>(micros / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &tm);
  return text;
}

std::string FormatTime(const google::protobuf::Timestamp& t) { return FormatTime(ToMicros(t)); }

}  // namespace infoflyt
