#include "web/post_pages.h"

#include <google/protobuf/util/json_util.h>

#include <future>
#include <map>

#include "base/crypto.h"
#include "web/await.h"
#include "web/envelope_html.h"
#include "web/form.h"
#include "web/page.h"

namespace infoflyt {
namespace {

struct FormSpec {
  std::string type;   // "release_notice"
  std::string title;  // "Send varsel om løslatelse"
  std::vector<PartyKind> senders;
};

const std::vector<std::pair<std::string, std::string>>& HandlingOptions() {
  static const auto* options = new std::vector<std::pair<std::string, std::string>>{
      {"TLP_AMBER", "TLP:AMBER – kun i egen virksomhet og med dem som trenger det"},
      {"TLP_AMBER_STRICT", "TLP:AMBER+STRICT – kun i egen virksomhet"},
      {"TLP_RED", "TLP:RED – kun for mottakeren"},
      {"TLP_GREEN", "TLP:GREEN – kan deles i fellesskapet"},
      {"TLP_CLEAR", "TLP:CLEAR – kan deles fritt"},
  };
  return *options;
}

// The bases under which a party of `kind` may send `type` to anyone, with citation and title.
std::vector<std::pair<std::string, std::string>> BasisOptions(const Catalogs& catalogs,
                                                              PartyKind kind,
                                                              const std::string& type) {
  std::vector<std::pair<std::string, std::string>> options;
  for (const std::string& id : catalogs.legal_bases.Ids()) {
    const LegalBasis* basis = catalogs.legal_bases.Find(id);
    for (const Flow& flow : basis->flows) {
      const bool from = std::find(flow.from.begin(), flow.from.end(), kind) != flow.from.end();
      const bool carries =
          std::find(flow.messages.begin(), flow.messages.end(), type) != flow.messages.end();
      if (from && carries) {
        options.emplace_back(id, basis->citation + " – " + basis->title);
        break;
      }
    }
  }
  return options;
}

std::vector<std::pair<std::string, std::string>> MunicipalityOptions(const Catalogs& catalogs) {
  std::vector<std::pair<std::string, std::string>> options{{"", "Velg kommune"}};
  for (const auto& [number, m] : catalogs.places.all()) {
    options.emplace_back(number, m.name + " (" + number + ")");
  }
  return options;
}

// The fields of the form for `spec` as `caller` sees it.
std::vector<FormField> FieldsOf(const FormSpec& spec, const Catalogs& catalogs, PartyKind kind) {
  const std::string& t = spec.type;
  std::vector<FormField> fields = {
      Field("legal_basis", "Rettsgrunnlag", Input::kSelect, true,
            "Hjemmelen som gir adgang til å dele opplysningene.", BasisOptions(catalogs, kind, t)),
      Field("handling", "Håndtering (TLP)", Input::kSelect, true, "", HandlingOptions()),
      Field(t + ".person.national_id", "Fødselsnummer eller D-nummer", Input::kText, true,
            "11 siffer."),
      Field(t + ".person.given_name", "Fornavn", Input::kText, true),
      Field(t + ".person.family_name", "Etternavn", Input::kText, true),
  };
  if (t == "release_notice") {
    fields.push_back(Field(t + ".kind", "Type løslatelse", Input::kSelect, true, "",
                           {{"RELEASE_KIND_RELEASE", "Løslatelse"},
                            {"RELEASE_KIND_PAROLE", "Prøveløslatelse"},
                            {"RELEASE_KIND_LEAVE", "Permisjon"},
                            {"RELEASE_KIND_TRANSFER", "Overføring"},
                            {"RELEASE_KIND_ESCAPE", "Rømning eller unndragelse"}}));
    fields.push_back(Field(t + ".planned_at", "Planlagt tidspunkt (UTC)", Input::kDateTime, true));
  } else {
    fields.push_back(
        Field(t + ".returned_at", "Tidspunkt for retur (UTC)", Input::kDateTime, true));
  }
  fields.push_back(Field(t + ".home_municipality", "Hjemkommune", Input::kSelect, true, "",
                         MunicipalityOptions(catalogs)));
  fields.push_back(Field(t + ".contact.name", "Kontaktperson", Input::kText, true,
                         "Hvem mottakeren skal ta kontakt med.", {}, "name"));
  fields.push_back(
      Field(t + ".contact.unit", "Enhet", Input::kText, false, "", {}, "organization"));
  fields.push_back(Field(t + ".contact.phone", "Telefon", Input::kTel, true, "", {}, "tel"));
  fields.push_back(Field(t + ".contact.email", "E-post", Input::kEmail, false, "", {}, "email"));
  fields.push_back(Field(t + ".note", "Merknad", Input::kTextarea, false,
                         "Vises bare for mottakere som etter rettsgrunnlaget får hele meldingen."));
  return fields;
}

// Renders the form with `values` and the field errors `errors` (by path; "" for the form).
std::string RenderForm(const Caller& caller, const FormSpec& spec, const Catalogs& catalogs,
                       const std::map<std::string, std::string>& values,
                       const std::map<std::string, std::string>& errors,
                       const std::string& idempotency_key) {
  TemplateData data = FormData(FieldsOf(spec, catalogs, caller.party.kind), values, errors);
  data.set("title", spec.title);
  data.set("action", "/post/" + spec.type);
  data.set("idempotency_key", idempotency_key);
  return RenderPage(caller, (errors.empty() ? "" : "Feil i skjemaet – ") + spec.title,
                    RenderTemplate("post_form", data));
}

void ShowForm(const FormSpec& spec, const ServiceContext& ctx, const WebRequest& request,
              httplib::Response& response) {
  const auto catalogs = ctx.catalogs->Get();
  SetPage(RenderForm(request.caller, spec, *catalogs, {{"handling", "TLP_AMBER"}}, {}, NewUuidV7()),
          &response);
}

void PostForm(const FormSpec& spec, const ServiceContext& ctx, ExchangeActions* actions,
              const WebRequest& request, httplib::Response& response) {
  auto catalogs = ctx.catalogs->Get();
  std::map<std::string, std::string> values;
  for (const auto& [name, value] : request.http.params) values[name] = value;
  const std::string key = values["idempotency_key"];
  if (key.empty() || key.size() > 64) {
    SetErrorPage(400, "Skjemaet mangler sin engangsnøkkel; last siden på nytt.", &response);
    return;
  }
  v1::PostRequest post;
  google::protobuf::util::JsonParseOptions strict;
  if (auto s = google::protobuf::util::JsonStringToMessage(
          FormJson(FieldsOf(spec, *catalogs, request.caller.party.kind), values),
          post.mutable_envelope(), strict);
      !s.ok()) {
    response.status = 400;
    SetPage(RenderForm(request.caller, spec, *catalogs, values,
                       {{"", "ugyldig verdi: " + s.message().ToString()}}, key),
            &response);
    return;
  }
  post.mutable_envelope()->set_idempotency_key(key);
  using Answer = std::pair<Status, v1::Receipt>;
  const std::optional<Answer> posted = Await<Answer>([&](auto answer) {
    actions->Post(request.caller, catalogs, std::move(post),
                  [answer](const Status& s, v1::Receipt receipt) {
                    answer({s, std::move(receipt)});
                  });
  });
  if (!posted) {
    SetActErrorPage(std::nullopt, &response);
    return;
  }
  const auto& [status, receipt] = *posted;
  if (status.code() == Code::kInvalidArgument) {
    response.status = 400;
    SetPage(
        RenderForm(request.caller, spec, *catalogs, values, FieldErrors(status, "envelope."), key),
        &response);
    return;
  }
  if (!status.ok()) {
    SetActErrorPage(status, &response);
    return;
  }
  response.set_redirect("/messages/" + receipt.message_id(), 303);
}

std::string StateText(v1::DeliveryState state) {
  switch (state) {
    case v1::DELIVERY_STATE_ACKNOWLEDGED:
      return "Bekreftet";
    case v1::DELIVERY_STATE_RECEIVED:
      return "Hentet, ikke bekreftet";
    default:
      return "Ikke hentet ennå";
  }
}

std::string OptionalTime(bool has, const google::protobuf::Timestamp& t) {
  return has ? FormatTime(t) : "";
}

// The message's recipients as its status page lists them; false (and an error page) if the
// status cannot be read.
bool RecipientsData(const ServiceContext& ctx, ExchangeActions* actions, const WebRequest& request,
                    httplib::Response& response, TemplateData* data) {
  using Answer = std::pair<Status, v1::MessageStatus>;
  const std::optional<Answer> read = Await<Answer>([&](auto answer) {
    actions->MessageStatus(request.caller.party.Key(), request.http.matches[1].str(),
                           [answer](const Status& s, v1::MessageStatus status) {
                             answer({s, std::move(status)});
                           });
  });
  if (!read || !read->first.ok()) {
    SetActErrorPage(read ? std::optional<Status>(read->first) : std::nullopt, &response);
    return false;
  }
  const v1::MessageStatus& status = read->second;
  const auto catalogs = ctx.catalogs->Get();
  TemplateData recipients{TemplateData::type::list};
  for (const v1::RecipientStatus& r : status.recipients()) {
    TemplateData row;
    const Party* party = catalogs->parties.FindByKey(r.party());
    row.set("party", party == nullptr ? r.party() : PartyName(*party));
    row.set("state", StateText(r.state()));
    row.set("acknowledged", r.state() == v1::DELIVERY_STATE_ACKNOWLEDGED);
    row.set("received_at", OptionalTime(r.has_received_at(), r.received_at()));
    row.set("acknowledged_at", OptionalTime(r.has_acknowledged_at(), r.acknowledged_at()));
    row.set("deadline", OptionalTime(r.has_ack_deadline(), r.ack_deadline()));
    row.set("escalated_at", OptionalTime(r.has_escalated_at(), r.escalated_at()));
    recipients << row;
  }
  data->set("message_id", status.message_id());
  data->set("type", MessageTypeLabel(status.message_type()));
  data->set("posted_at", OptionalTime(status.has_posted_at(), status.posted_at()));
  data->set("recipients", recipients);
  return true;
}

}  // namespace

void AddPostPages(WebServer* server, const ServiceContext* ctx, ExchangeActions* actions) {
  const std::vector<FormSpec> specs = {
      {"release_notice", "Send varsel om løslatelse", ReleaseSenders()},
      {"return_notice", "Send varsel om retur", ReturnSenders()},
  };
  for (const FormSpec& spec : specs) {
    const std::string route = "/post/" + spec.type;
    server->Route(
        WebMethod::kGet, route, "Web/PostForm", spec.senders,
        [spec, ctx](const WebRequest& q, httplib::Response& r) { ShowForm(spec, *ctx, q, r); });
    server->Route(WebMethod::kPost, route, "Web/Post", spec.senders,
                  [spec, ctx, actions](const WebRequest& q, httplib::Response& r) {
                    PostForm(spec, *ctx, actions, q, r);
                  });
  }
  const std::vector<PartyKind> senders = {PartyKind::kCorrectional, PartyKind::kPst,
                                          PartyKind::kPolice, PartyKind::kMunicipality};
  server->Route(WebMethod::kGet, R"(/messages/([0-9a-f-]{36}))", "Web/MessageStatus", senders,
                [ctx, actions](const WebRequest& q, httplib::Response& r) {
                  TemplateData data;
                  if (!RecipientsData(*ctx, actions, q, r, &data)) return;
                  data.set("recipients_html", RenderTemplate("message_recipients", data));
                  SetPage(RenderPage(q.caller, "Status for meldingen",
                                     RenderTemplate("message_status", data), {"refresh.js"}),
                          &r);
                });
  server->Route(WebMethod::kGet, R"(/messages/([0-9a-f-]{36})/recipients)", "Web/MessageStatus",
                senders, [ctx, actions](const WebRequest& q, httplib::Response& r) {
                  TemplateData data;
                  if (!RecipientsData(*ctx, actions, q, r, &data)) return;
                  r.set_content(RenderTemplate("message_recipients", data),
                                "text/html; charset=utf-8");
                });
}

}  // namespace infoflyt
