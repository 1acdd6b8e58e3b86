#include "web/audit_pages.h"

#include <google/protobuf/util/json_util.h>

#include <future>
#include <set>

#include "web/await.h"
#include "web/envelope_html.h"
#include "web/form.h"
#include "web/page.h"

namespace infoflyt {
namespace {

std::vector<std::pair<std::string, std::string>> Choices(
    std::initializer_list<std::pair<std::string, std::string>> choices) {
  std::vector<std::pair<std::string, std::string>> out{{"", "Alle"}};
  out.insert(out.end(), choices.begin(), choices.end());
  return out;
}

std::vector<FormField> SearchFields(const Catalogs& catalogs) {
  std::vector<std::pair<std::string, std::string>> bases{{"", "Alle"}};
  for (const std::string& id : catalogs.legal_bases.Ids()) {
    bases.emplace_back(id, catalogs.legal_bases.Find(id)->citation + " (" + id + ")");
  }
  return {
      Field("national_id", "Fødselsnummer eller D-nummer", Input::kText, false,
            "Personen søket gjelder; sendes aldri i adressen."),
      Field("party", "Part", Input::kText, false,
            "For eksempel police/oslo eller municipality/0301."),
      Field("legal_basis", "Rettsgrunnlag", Input::kSelect, false, "", bases),
      Field("message_type", "Meldingstype", Input::kSelect, false, "",
            Choices({{"release_notice", "Varsel om løslatelse"},
                     {"return_notice", "Varsel om retur"},
                     {"case_update", "Saksoppdatering"},
                     {"concern_report", "Bekymringsmelding"},
                     {"escalation_notice", "Varsel om ubekreftet melding"},
                     {"flag", "Markering i registeret"},
                     {"policy", "Regler i kraft"}})),
      Field("outcome", "Utfall", Input::kSelect, false, "",
            Choices({{"disclosed", "Utlevert"},
                     {"refused", "Avvist"},
                     {"acknowledged", "Bekreftet"},
                     {"read", "Lest av revisor"},
                     {"recorded", "Registrert"},
                     {"erased", "Slettet"}})),
      Field("from", "Fra og med (UTC)", Input::kDateTime, false),
      Field("until", "Til (UTC)", Input::kDateTime, false),
  };
}

std::map<std::string, std::string> Values(const httplib::Request& http) {
  std::map<std::string, std::string> values;
  for (const auto& [name, value] : http.params) values[name] = value;
  return values;
}

TemplateData RecordRow(const v1::DisclosureRecord& r, bool changed) {
  TemplateData row;
  row.set("index", std::to_string(r.index()));
  row.set("occurred_at", FormatTime(r.occurred_at()));
  row.set("event", r.event());
  row.set("outcome", r.outcome());
  row.set("sender", r.sender());
  row.set("recipient", r.recipient());
  row.set("on_behalf_of", r.on_behalf_of());
  row.set("message_type", r.message_type().empty() ? "" : MessageTypeLabel(r.message_type()));
  row.set("legal_citation", r.legal_citation());
  row.set("view", r.view());
  row.set("reason", r.reason());
  row.set("changed", changed);
  return row;
}

void RenderSearch(const WebRequest& request, const Catalogs& catalogs,
                  const std::map<std::string, std::string>& values,
                  const std::map<std::string, std::string>& errors,
                  const v1::QueryDisclosuresResponse* results, httplib::Response& response) {
  TemplateData data = FormData(SearchFields(catalogs), values, errors);
  if (results != nullptr) {
    std::set<uint64_t> changed(results->changed_records().begin(),
                               results->changed_records().end());
    TemplateData rows{TemplateData::type::list};
    for (const auto& r : results->records()) rows << RecordRow(r, changed.contains(r.index()));
    data.set("searched", true);
    data.set("records", rows);
    data.set("has_records", results->records_size() > 0);
    data.set("count", std::to_string(results->records_size()));
    if (!results->next_page_token().empty()) {
      // The next page repeats the query: its values, hidden, and the token.
      TemplateData hidden{TemplateData::type::list};
      for (const auto& [name, value] : values) {
        if (name == "page_token" || value.empty()) continue;
        TemplateData h;
        h.set("name", name);
        h.set("value", value);
        hidden << h;
      }
      data.set("next_page", true);
      data.set("hidden", hidden);
      data.set("page_token", results->next_page_token());
    }
  }
  SetPage(RenderPage(request.caller, "Søk i utleveringsloggen", RenderTemplate("audit", data)),
          &response);
}

void Search(const ServiceContext& ctx, AuditService* audit, const WebRequest& request,
            httplib::Response& response) {
  const auto catalogs = ctx.catalogs->Get();
  const std::map<std::string, std::string> values = Values(request.http);
  std::vector<FormField> fields = SearchFields(*catalogs);
  fields.push_back(Field("page_token", "", Input::kText, false));
  v1::QueryDisclosuresRequest query;
  google::protobuf::util::JsonParseOptions strict;
  if (auto s =
          google::protobuf::util::JsonStringToMessage(FormJson(fields, values), &query, strict);
      !s.ok()) {
    response.status = 400;
    RenderSearch(request, *catalogs, values, {{"", "ugyldig verdi: " + s.message().ToString()}},
                 nullptr, response);
    return;
  }
  query.set_page_size(50);
  auto results = std::make_shared<v1::QueryDisclosuresResponse>();
  const std::optional<Status> answered =
      AwaitAct(results, [&](v1::QueryDisclosuresResponse* out, auto done) {
        audit->Query(request.peer, query, out, std::move(done));
      });
  if (answered && answered->code() == Code::kInvalidArgument) {
    response.status = 400;
    RenderSearch(request, *catalogs, values, FieldErrors(*answered, ""), nullptr, response);
    return;
  }
  if (!answered || !answered->ok()) {
    SetActErrorPage(answered, &response);
    return;
  }
  RenderSearch(request, *catalogs, values, {}, results.get(), response);
}

// A party's name for the person reading the report; its key if the registry no longer holds it.
std::string NameOf(const Catalogs& catalogs, const std::string& key) {
  const Party* party = catalogs.parties.FindByKey(key);
  return party == nullptr ? key : PartyName(*party);
}

void Report(const ServiceContext& ctx, AuditService* audit, const WebRequest& request,
            httplib::Response& response) {
  const std::string national_id = request.http.get_param_value("national_id");
  auto owned = std::make_shared<v1::SubjectAccessReportResponse>();
  const std::optional<Status> answered =
      AwaitAct(owned, [&](v1::SubjectAccessReportResponse* out, auto done) {
        audit->Report(request.peer, national_id, out, std::move(done));
      });
  if (!answered || !answered->ok()) {
    SetActErrorPage(answered, &response);
    return;
  }
  const v1::SubjectAccessReportResponse& report = *owned;
  const auto catalogs = ctx.catalogs->Get();
  TemplateData data;
  TemplateData entries{TemplateData::type::list};
  for (const auto& e : report.entries()) {
    TemplateData row;
    row.set("occurred_at", FormatTime(e.occurred_at()));
    row.set("event", e.event());
    row.set("sender", NameOf(*catalogs, e.sender()));
    row.set("recipient", NameOf(*catalogs, e.recipient()));
    row.set("message_type", MessageTypeLabel(e.message_type()));
    row.set("view", e.view());
    row.set("legal_citation", e.legal_citation());
    row.set("index", std::to_string(e.index()));
    row.set("changed", e.changed_since_logged());
    entries << row;
  }
  data.set("entries", entries);
  data.set("has_entries", report.entries_size() > 0);
  data.set("generated_at", FormatTime(report.generated_at()));
  data.set("exemptions", report.exemptions());
  data.set("tree_size", std::to_string(report.checkpoint().tree_size()));
  data.set("checkpoint", report.checkpoint().note());
  data.set("auditor", PartyName(request.caller.party));
  SetPage(RenderPage(request.caller, "Innsynsrapport", RenderTemplate("subject_access", data),
                     {"print.js"}),
          &response);
}

}  // namespace

void AddAuditPages(WebServer* server, const ServiceContext* ctx, AuditService* audit) {
  server->Route(WebMethod::kGet, "/audit", "Web/Audit", AuditorKinds(),
                [ctx](const WebRequest& q, httplib::Response& r) {
                  RenderSearch(q, *ctx->catalogs->Get(), {}, {}, nullptr, r);
                });
  server->Route(
      WebMethod::kPost, "/audit/search", "Web/AuditSearch", AuditorKinds(),
      [ctx, audit](const WebRequest& q, httplib::Response& r) { Search(*ctx, audit, q, r); });
  server->Route(
      WebMethod::kPost, "/audit/report", "Web/SubjectAccessReport", AuditorKinds(),
      [ctx, audit](const WebRequest& q, httplib::Response& r) { Report(*ctx, audit, q, r); });
}

}  // namespace infoflyt
