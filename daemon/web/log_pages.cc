#include "web/log_pages.h"

#include <google/protobuf/util/json_util.h>

#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/crypto.h"
#include "core/time_util.h"
#include "web/await.h"
#include "web/envelope_html.h"
#include "web/page.h"

namespace infoflyt {
namespace {

std::optional<Status> ProofOf(AuditService* audit, const WebRequest& request,
                              const std::shared_ptr<v1::InclusionProof>& proof) {
  v1::GetInclusionProofRequest asked;
  asked.set_index(std::stoull(request.http.matches[1].str()));
  // The script asks for the proof at the checkpoint its page shows (digits only; the Audit
  // service refuses a size it never signed).
  if (request.http.has_param("tree_size")) {
    const std::string size = request.http.get_param_value("tree_size");
    if (size.empty() || size.size() > 18 ||
        size.find_first_not_of("0123456789") != std::string::npos) {
      return Status::InvalidArgument({{"tree_size", "must be a whole number"}});
    }
    asked.set_tree_size(std::stoull(size));
  }
  return AwaitAct(proof, [&](v1::InclusionProof* out, auto done) {
    audit->Proof(request.peer, asked, out, std::move(done));
  });
}

// The proof as the Audit service's protobuf JSON (field names as in proto/), for the script.
void ProofJson(AuditService* audit, const WebRequest& request, httplib::Response& response) {
  auto proof = std::make_shared<v1::InclusionProof>();
  const std::optional<Status> answered = ProofOf(audit, request, proof);
  if (!answered || !answered->ok()) {
    SetActErrorPage(answered, &response);
    return;
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(*proof, &json, options).ok()) {
    SetErrorPage(500, "", &response);
    return;
  }
  response.set_content(json, "application/json");
}

// The checkpoint's facts, as the record and log pages show them.
TemplateData CheckpointData(const v1::SignedCheckpoint& c) {
  TemplateData data;
  data.set("tree_size", std::to_string(c.tree_size()));
  data.set("root_hash", ToHex(c.root_hash()));
  data.set("signed_at", FormatTime(c.signed_at()));
  data.set("note", c.note());
  data.set("stated_key", c.verifier_key());
  return data;
}

// One fact of a record: its label, its field number in DisclosureRecord (which the page's script
// compares with the decoded leaf: what is shown is what was logged), and its value exactly as
// the leaf holds it (bytes as hex, the time as RFC 3339; the index even when 0, which the leaf
// leaves out).
void AddFact(TemplateData* facts, const char* label, int field, const std::string& value) {
  if (value.empty()) return;  // Omitted from the leaf too (proto3's defaults).
  TemplateData fact;
  fact.set("label", label);
  fact.set("field", std::to_string(field));
  fact.set("value", value);
  *facts << fact;
}

TemplateData RecordFacts(const v1::DisclosureRecord& r) {
  TemplateData facts{TemplateData::type::list};
  AddFact(&facts, "Nr. i loggen", 1, std::to_string(r.index()));
  if (r.has_occurred_at())
    AddFact(&facts, "Tid (UTC)", 2, FormatRfc3339(ToMicros(r.occurred_at())));
  AddFact(&facts, "Hendelse", 3, r.event());
  AddFact(&facts, "Utfall", 4, r.outcome());
  AddFact(&facts, "Melding", 5, r.message_id());
  AddFact(&facts, "Utlevering", 6, r.delivery_id() == 0 ? "" : std::to_string(r.delivery_id()));
  AddFact(&facts, "Fra", 7, r.sender());
  AddFact(&facts, "Avsenderens sertifikat", 8, r.sender_certificate_subject());
  AddFact(&facts, "Sertifikatets SHA-256", 9, r.sender_certificate_fingerprint());
  AddFact(&facts, "Til", 10, r.recipient());
  AddFact(&facts, "Personens nøkkel-hash (HMAC)", 11, ToHex(r.subject_hash()));
  AddFact(&facts, "Meldingstype", 12, r.message_type());
  AddFact(&facts, "Felter utlevert", 13, r.view());
  AddFact(&facts, "Innholdets SHA-256", 14, ToHex(r.content_hash()));
  AddFact(&facts, "Rettsgrunnlag", 15, r.legal_basis());
  AddFact(&facts, "Hjemmel", 16, r.legal_citation());
  AddFact(&facts, "Gradering (TLP)", 17, r.handling());
  AddFact(&facts, "Begrunnelse", 18, r.reason());
  AddFact(&facts, "Skrevet av instans", 19, r.instance());
  AddFact(&facts, "Versjon", 20, r.version());
  AddFact(&facts, "På vegne av", 21, r.on_behalf_of());
  return facts;
}

void RecordPage(AuditService* audit, const WebRequest& request, httplib::Response& response) {
  auto proof = std::make_shared<v1::InclusionProof>();
  const std::optional<Status> answered = ProofOf(audit, request, proof);
  if (!answered || !answered->ok()) {
    SetActErrorPage(answered, &response);
    return;
  }
  TemplateData data = CheckpointData(proof->checkpoint());
  const std::string index = std::to_string(proof->record().index());
  data.set("index", index);
  data.set("proof_url", "/audit/records/" + index +
                            "/proof?tree_size=" + std::to_string(proof->checkpoint().tree_size()));
  data.set("out_of_scope", proof->out_of_scope());
  if (!proof->out_of_scope()) {
    data.set("facts", RecordFacts(proof->record()));
    if (!proof->record().message_type().empty()) {
      data.set("type_label", MessageTypeLabel(proof->record().message_type()));
    }
  }
  data.set("verify_html", RenderTemplate("verify_panel", data));
  SetPage(RenderPage(request.caller, "Post " + index + " i loggen", RenderTemplate("record", data),
                     {"verify.js"}),
          &response);
}

void LogStatePage(AuditService* audit, const WebRequest& request, httplib::Response& response) {
  auto checkpoint = std::make_shared<v1::SignedCheckpoint>();
  const std::optional<Status> answered =
      AwaitAct(checkpoint, [&](v1::SignedCheckpoint* out, auto done) {
        audit->Checkpoint(request.peer, v1::GetCheckpointRequest{}, out, std::move(done));
      });
  if (!answered || !answered->ok()) {
    SetActErrorPage(answered, &response);
    return;
  }
  TemplateData data = CheckpointData(*checkpoint);
  data.set("verify_html", RenderTemplate("verify_panel", data));
  SetPage(RenderPage(request.caller, "Loggens tilstand", RenderTemplate("log_state", data),
                     {"verify.js"}),
          &response);
}

}  // namespace

void AddLogPages(WebServer* server, AuditService* audit) {
  server->Route(WebMethod::kGet, R"(/audit/records/(\d{1,18}))", "Web/AuditRecord", AuditorKinds(),
                [audit](const WebRequest& q, httplib::Response& r) { RecordPage(audit, q, r); });
  server->Route(WebMethod::kGet, R"(/audit/records/(\d{1,18})/proof)", "Web/AuditProof",
                AuditorKinds(),
                [audit](const WebRequest& q, httplib::Response& r) { ProofJson(audit, q, r); });
  server->Route(WebMethod::kGet, "/audit/log", "Web/AuditLog", AuditorKinds(),
                [audit](const WebRequest& q, httplib::Response& r) { LogStatePage(audit, q, r); });
}

}  // namespace infoflyt
