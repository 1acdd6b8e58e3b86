#include "web/envelope_html.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>
#include <google/protobuf/timestamp.pb.h>

#include <map>

#include "core/message_body.h"

namespace infoflyt {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Labels of the fields of messages.proto's bodies, persons and contacts; a field not here is
// shown under its own name, so a field added to the API is never silently left out.
const std::map<std::string_view, std::string_view>& FieldLabels() {
  static const auto* labels = new std::map<std::string_view, std::string_view>{
      {"national_id", "Fødselsnummer"},
      {"given_name", "Fornavn"},
      {"family_name", "Etternavn"},
      {"name", "Navn"},
      {"unit", "Enhet"},
      {"phone", "Telefon"},
      {"email", "E-post"},
      {"kind", "Type"},
      {"planned_at", "Planlagt tidspunkt"},
      {"home_municipality", "Hjemkommune"},
      {"note", "Merknad"},
      {"returned_at", "Tidspunkt for retur"},
      {"case_reference", "Saksnummer"},
      {"summary", "Sammendrag"},
      {"level", "Bekymringsgrad"},
      {"description", "Beskrivelse"},
      {"message_id", "Meldingens id"},
      {"message_type", "Meldingstype"},
      {"municipality", "Kommune"},
      {"municipality_name", "Kommunenavn"},
      {"delivery_id", "Leveringsnummer"},
      {"posted_at", "Sendt"},
      {"deadline", "Frist for bekreftelse"},
      {"received", "Hentet av kommunen"},
  };
  return *labels;
}

const std::map<std::string_view, std::string_view>& EnumLabels() {
  static const auto* labels = new std::map<std::string_view, std::string_view>{
      {"RELEASE_KIND_RELEASE", "Løslatelse"},
      {"RELEASE_KIND_PAROLE", "Prøveløslatelse"},
      {"RELEASE_KIND_LEAVE", "Permisjon"},
      {"RELEASE_KIND_TRANSFER", "Overføring"},
      {"RELEASE_KIND_ESCAPE", "Rømning eller unndragelse"},
      {"CONCERN_LEVEL_CONCERN", "Bekymring"},
      {"CONCERN_LEVEL_SERIOUS", "Alvorlig bekymring"},
      {"CONCERN_LEVEL_VERY_SERIOUS", "Svært alvorlig bekymring"},
      {"TLP_CLEAR", "TLP:CLEAR (kan deles fritt)"},
      {"TLP_GREEN", "TLP:GREEN (kan deles i fellesskapet)"},
      {"TLP_AMBER", "TLP:AMBER (kun i egen virksomhet og med dem som trenger det)"},
      {"TLP_AMBER_STRICT", "TLP:AMBER+STRICT (kun i egen virksomhet)"},
      {"TLP_RED", "TLP:RED (kun for mottakeren)"},
  };
  return *labels;
}

std::string EnumLabel(const std::string& name) {
  auto it = EnumLabels().find(name);
  return it == EnumLabels().end() ? name : std::string(it->second);
}

std::string Label(const FieldDescriptor& field) {
  auto it = FieldLabels().find(field.name());
  return it == FieldLabels().end() ? field.name() : std::string(it->second);
}

TemplateData Row(const std::string& label, const std::string& value, const std::string& href = {}) {
  TemplateData row;
  row.set("label", label);
  row.set("value", value);
  if (!href.empty()) row.set("href", href);
  return row;
}

// The value of a set singular field as text; nested messages other than timestamps are
// sections of their own.
std::string ValueText(const Message& message, const FieldDescriptor& field,
                      const Catalogs& catalogs) {
  const auto* r = message.GetReflection();
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string value = r->GetString(message, &field);
      if (field.name() == "home_municipality") {
        if (const Municipality* m = catalogs.places.Find(value))
          value = m->name + " (" + value + ")";
      }
      return value;
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      return r->GetBool(message, &field) ? "Ja" : "Nei";
    case FieldDescriptor::CPPTYPE_UINT64:
      return std::to_string(r->GetUInt64(message, &field));
    case FieldDescriptor::CPPTYPE_ENUM: {
      return EnumLabel(r->GetEnum(message, &field)->name());
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const auto& ts =
          dynamic_cast<const google::protobuf::Timestamp&>(r->GetMessage(message, &field));
      return FormatTime(ts);
    }
    default:
      return {};
  }
}

bool IsTimestamp(const FieldDescriptor& field) {
  return field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
         field.message_type()->full_name() == "google.protobuf.Timestamp";
}

TemplateData Section(const std::string& key, const std::string& title, const TemplateData& rows,
                     bool contact) {
  TemplateData section;
  section.set("key", key);
  section.set("title", title);
  section.set("rows", rows);
  if (contact) section.set("contact", true);
  return section;
}

// The set fields of `message` as rows; nested messages (person, contact) are added to
// `sections` after it.
TemplateData Rows(const Message& message, const Catalogs& catalogs, TemplateData* sections) {
  TemplateData rows{TemplateData::type::list};
  std::vector<const FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->is_repeated()) continue;  // The bodies have none.
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !IsTimestamp(*field)) {
      const Message& nested = message.GetReflection()->GetMessage(message, field);
      const bool contact = field->name() == "contact";
      TemplateData none{TemplateData::type::list};
      *sections << Section(field->name(),
                           contact ? "Kontaktperson – hvem du tar kontakt med"
                                   : (field->name() == "person" ? "Person" : Label(*field)),
                           Rows(nested, catalogs, &none), contact);
      continue;
    }
    std::string value = ValueText(message, *field, catalogs);
    std::string href;
    // Percent-encoded (httplib's encoder), so a value cannot add headers or recipients to the
    // link (mailto:a@b?bcc=...).
    if (field->name() == "phone") href = "tel:" + httplib::detail::encode_query_param(value);
    if (field->name() == "email") href = "mailto:" + httplib::detail::encode_query_param(value);
    rows << Row(Label(*field), value, href);
  }
  return rows;
}

}  // namespace

std::string MessageTypeLabel(std::string_view message_type) {
  static const auto* labels = new std::map<std::string_view, std::string_view>{
      {"release_notice", "Varsel om løslatelse"},
      {"return_notice", "Varsel om retur"},
      {"case_update", "Saksoppdatering"},
      {"concern_report", "Bekymringsmelding"},
      {"escalation_notice", "Varsel om ubekreftet melding"},
      {"flag", "Markering i registeret"},
      {"policy", "Regler i kraft"},
  };
  auto it = labels->find(message_type);
  return it == labels->end() ? std::string(message_type) : std::string(it->second);
}

std::string SubjectName(const v1::Envelope& envelope) {
  const MessageBody body = BodyOf(envelope);
  if (body.person == nullptr) return {};
  std::string name = body.person->given_name();
  if (!body.person->family_name().empty()) {
    name += (name.empty() ? "" : " ") + body.person->family_name();
  }
  return name;
}

TemplateData EnvelopeSections(const v1::Envelope& envelope, const Catalogs& catalogs) {
  TemplateData sections{TemplateData::type::list};
  const auto* oneof = v1::Envelope::descriptor()->FindOneofByName("body");
  const FieldDescriptor* field =
      v1::Envelope::GetReflection()->GetOneofFieldDescriptor(envelope, oneof);
  TemplateData nested{TemplateData::type::list};
  if (field != nullptr) {
    const Message& body = v1::Envelope::GetReflection()->GetMessage(envelope, field);
    sections << Section("body", "Opplysninger", Rows(body, catalogs, &nested), false);
  }
  // Person first, then the contact, as a reader looks for them.
  for (const auto& section : nested.list_value()) sections << section;
  TemplateData basis_rows{TemplateData::type::list};
  if (const LegalBasis* basis = catalogs.legal_bases.Find(envelope.legal_basis())) {
    basis_rows << Row("Hjemmel", basis->citation);
    basis_rows << Row("Hva den gir adgang til", basis->title);
  } else if (!envelope.legal_basis().empty()) {
    basis_rows << Row("Hjemmel", envelope.legal_basis());
  }
  basis_rows << Row("Håndtering", EnumLabel(v1::HandlingRestriction_Name(envelope.handling())));
  sections << Section("basis", "Rettsgrunnlag og håndtering", basis_rows, false);
  return sections;
}

}  // namespace infoflyt
