#include "web/home_page.h"

#include "web/page.h"

namespace infoflyt {

void AddHomePage(WebServer* server) {
  server->Route(WebMethod::kGet, "/", "Web/Home",
                {PartyKind::kMunicipality, PartyKind::kPolice, PartyKind::kPst,
                 PartyKind::kCorrectional, PartyKind::kAuditor, PartyKind::kOperator},
                [](const WebRequest& request, httplib::Response& response) {
                  TemplateData data;
                  data.set("party_name", PartyName(request.caller.party));
                  TemplateData links = Navigation(request.caller.party.kind);
                  data.set("has_links", !links.is_empty_list());
                  data.set("links", links);
                  SetPage(RenderPage(request.caller, "Forside", RenderTemplate("home", data)),
                          &response);
                });
}

}  // namespace infoflyt
