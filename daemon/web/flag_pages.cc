#include "web/flag_pages.h"

#include <google/protobuf/util/json_util.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/crypto.h"
#include "web/await.h"
#include "web/form.h"
#include "web/page.h"

namespace infoflyt {
namespace {

const std::vector<std::pair<std::string, std::string>>& ReasonOptions() {
  static const auto* options = new std::vector<std::pair<std::string, std::string>>{
      {"", "Velg grunn"},
      {"FLAG_REASON_RETURNED_FOREIGN_FIGHTER", "Returnert fremmedkriger"},
      {"FLAG_REASON_TERROR_CONVICT", "Dømt for terrorhandlinger"},
      {"FLAG_REASON_RADICALISATION_CONCERN", "Bekymring for radikalisering"},
  };
  return *options;
}

std::string ReasonLabel(v1::FlagReason reason) {
  for (const auto& [value, label] : ReasonOptions()) {
    if (value == v1::FlagReason_Name(reason)) return label;
  }
  return v1::FlagReason_Name(reason);
}

// The fields of FlagRequest, with the bases a party of `kind` may flag under.
std::vector<FormField> FlagFields(const Catalogs& catalogs, PartyKind kind) {
  std::vector<std::pair<std::string, std::string>> bases;
  for (const std::string& id : catalogs.legal_bases.Ids()) {
    const LegalBasis* basis = catalogs.legal_bases.Find(id);
    if (basis->CoversFlagsOf(kind)) bases.emplace_back(id, basis->citation + " – " + basis->title);
  }
  return {
      Field("national_id", "Fødselsnummer eller D-nummer", Input::kText, true, "11 siffer."),
      Field("reason", "Grunn", Input::kSelect, true, "", ReasonOptions()),
      Field("legal_basis", "Rettsgrunnlag", Input::kSelect, true,
            "Hjemmelen hjemkommunen varsles under når personen løslates eller kommer tilbake.",
            std::move(bases)),
      Field("expires_at", "Utløper (UTC)", Input::kDateTime, false,
            "Tomt: til markeringen avsluttes."),
  };
}

void RenderForm(const WebRequest& request, const Catalogs& catalogs,
                const std::map<std::string, std::string>& values,
                const std::map<std::string, std::string>& errors, const std::string& flag_id,
                httplib::Response& response) {
  TemplateData data = FormData(FlagFields(catalogs, request.caller.party.kind), values, errors);
  data.set("flag_id", flag_id);
  SetPage(RenderPage(request.caller,
                     std::string(errors.empty() ? "" : "Feil i skjemaet – ") + "Markér en person",
                     RenderTemplate("flag_form", data)),
          &response);
}

bool IsUuid(const std::string& id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const char c = id[i];
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void PostFlag(const ServiceContext& ctx, const RegistryActions* actions, const WebRequest& request,
              httplib::Response& response) {
  const auto catalogs = ctx.catalogs->Get();
  std::map<std::string, std::string> values;
  for (const auto& [name, value] : request.http.params) values[name] = value;
  const std::string flag_id = values["flag_id"];
  if (!IsUuid(flag_id)) {
    SetErrorPage(400, "Skjemaet mangler sin engangsnøkkel; last siden på nytt.", &response);
    return;
  }
  v1::FlagRequest flag;
  if (auto s = google::protobuf::util::JsonStringToMessage(
          FormJson(FlagFields(*catalogs, request.caller.party.kind), values), &flag);
      !s.ok()) {
    response.status = 400;
    RenderForm(request, *catalogs, values, {{"", "ugyldig verdi: " + s.message().ToString()}},
               flag_id, response);
    return;
  }
  using Answer = std::pair<Status, v1::FlagRecord>;
  const std::optional<Answer> flagged = Await<Answer>([&](auto answer) {
    actions->Flag(request.caller, *catalogs, flag, flag_id,
                  [answer](const Status& s, v1::FlagRecord record) {
                    answer({s, std::move(record)});
                  });
  });
  if (flagged && flagged->first.code() == Code::kInvalidArgument) {
    response.status = 400;
    RenderForm(request, *catalogs, values, FieldErrors(flagged->first, ""), flag_id, response);
    return;
  }
  const bool again = flagged && flagged->first.code() == Code::kAlreadyExists;
  if (!flagged || (!flagged->first.ok() && !again)) {
    SetActErrorPage(flagged ? std::optional<Status>(flagged->first) : std::nullopt, &response);
    return;
  }
  const v1::FlagRecord& record = flagged->second;
  const LegalBasis* basis = catalogs->legal_bases.Find(record.legal_basis());
  TemplateData data;
  data.set("again", again);
  data.set("flag_id", record.flag_id());
  data.set("reason", ReasonLabel(record.reason()));
  data.set("basis", basis == nullptr ? record.legal_basis() : basis->citation);
  data.set("flagged_at", FormatTime(record.flagged_at()));
  data.set("expires_at",
           record.has_expires_at() ? FormatTime(record.expires_at()) : "ved avslutning");
  SetPage(
      RenderPage(request.caller, "Markeringen er registrert", RenderTemplate("flag_done", data)),
      &response);
}

}  // namespace

void AddFlagPages(WebServer* server, const ServiceContext* ctx, const RegistryActions* actions) {
  server->Route(WebMethod::kGet, "/flags/new", "Web/FlagForm", FlagKinds(),
                [ctx](const WebRequest& q, httplib::Response& r) {
                  RenderForm(q, *ctx->catalogs->Get(), {}, {}, NewUuidV7(), r);
                });
  server->Route(
      WebMethod::kPost, "/flags", "Web/Flag", FlagKinds(),
      [ctx, actions](const WebRequest& q, httplib::Response& r) { PostFlag(*ctx, actions, q, r); });
}

}  // namespace infoflyt
