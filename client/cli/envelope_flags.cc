#include "envelope_flags.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <openssl/rand.h>

#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace infoflyt::cli {
namespace {

using google::protobuf::util::TimeUtil;

void AddCommon(CLI::App* cmd, EnvelopeFlags* f) {
  // No default: the sender cites the basis for each disclosure deliberately.
  cmd->add_option("--basis", f->legal_basis,
                  "legal basis id from the catalogue, e.g. strgjfl-4i (an unknown id is "
                  "answered with the list of valid ones)")
      ->required();
  cmd->add_option("--tlp", f->handling, "handling: clear|green|amber|amber-strict|red")
      ->capture_default_str();
  cmd->add_option("--idempotency-key", f->idempotency_key,
                  "key for safe retries (default: random); reuse it to retry a post");
  cmd->add_option("--national-id", f->national_id,
                  "fødselsnummer or D-number (or set INFOFLYT_NATIONAL_ID, which stays out of "
                  "shell history)")
      ->envname("INFOFLYT_NATIONAL_ID")
      ->required();
  cmd->add_option("--given-name", f->given_name, "given name(s)")->required();
  cmd->add_option("--family-name", f->family_name, "family name")->required();
  cmd->add_option("--municipality", f->municipality, "home kommunenummer, e.g. 0301")->required();
  cmd->add_option("--contact-name", f->contact_name, "contact person")->required();
  cmd->add_option("--contact-phone", f->contact_phone, "contact telephone")->required();
  cmd->add_option("--contact-unit", f->contact_unit, "contact's unit");
  cmd->add_option("--contact-email", f->contact_email, "contact e-mail");
}

template <typename T>
void FillPerson(const EnvelopeFlags& f, T* body) {
  auto* person = body->mutable_person();
  person->set_national_id(f.national_id);
  person->set_given_name(f.given_name);
  person->set_family_name(f.family_name);
  body->set_home_municipality(f.municipality);
  auto* contact = body->mutable_contact();
  contact->set_name(f.contact_name);
  contact->set_phone(f.contact_phone);
  contact->set_unit(f.contact_unit);
  contact->set_email(f.contact_email);
}

bool ParseTime(const std::string& text, const char* flag, google::protobuf::Timestamp* out,
               std::string* error) {
  if (TimeUtil::FromString(text, out)) return true;
  *error = std::string(flag) + ": not an RFC 3339 time such as 2026-12-01T09:00:00Z";
  return false;
}

template <typename Enum>
bool Lookup(const std::map<std::string, Enum>& names, const std::string& value, const char* flag,
            Enum* out, std::string* error) {
  auto it = names.find(value);
  if (it != names.end()) {
    *out = it->second;
    return true;
  }
  *error = std::string(flag) + ": must be one of";
  for (const auto& [name, e] : names) *error += " " + name;
  return false;
}

std::string RandomKey() {
  unsigned char bytes[12];
  RAND_bytes(bytes, sizeof bytes);
  std::string key = "cli-";
  for (unsigned char b : bytes) {
    key += "0123456789abcdef"[b >> 4];
    key += "0123456789abcdef"[b & 0xf];
  }
  return key;
}

}  // namespace

void AddPostCommands(CLI::App* post, EnvelopeFlags* f, std::string* type) {
  auto* release = post->add_subcommand("release", "release notice (correctional units)");
  AddCommon(release, f);
  release->add_option("--kind", f->release_kind, "release|parole|leave|transfer|escape")
      ->required();
  release->add_option("--at", f->at, "planned release time, RFC 3339")->required();
  release->add_option("--note", f->note, "free text for police and PST");

  auto* ret = post->add_subcommand("return", "return notice (PST)");
  AddCommon(ret, f);
  ret->add_option("--at", f->at, "when the person returned, RFC 3339")->required();
  ret->add_option("--note", f->note, "free text for the police district");

  auto* update = post->add_subcommand("case", "case update (police, PST)");
  AddCommon(update, f);
  update->add_option("--case-reference", f->case_reference, "your case reference")->required();
  update->add_option("--summary", f->text, "what has changed")->required();

  auto* concern = post->add_subcommand("concern", "concern report (municipality, police)");
  AddCommon(concern, f);
  concern->add_option("--level", f->level, "concern|serious|very-serious")->required();
  concern->add_option("--description", f->text, "what was observed")->required();

  auto* json = post->add_subcommand("json", "any message, as an Envelope in proto3 JSON");
  json->add_option("file", f->json_file, "file with the envelope, - for stdin")->required();

  for (auto* cmd : {release, ret, update, concern, json}) {
    cmd->callback([cmd, type] { *type = cmd->get_name(); });
  }
  post->require_subcommand(1);
}

bool BuildEnvelope(const std::string& type, const EnvelopeFlags& f, v1::Envelope* e,
                   std::string* error) {
  if (type == "json") {
    std::stringstream text;
    if (f.json_file == "-") {
      text << std::cin.rdbuf();
    } else {
      std::ifstream in(f.json_file);
      if (!in) {
        *error = "cannot read " + f.json_file;
        return false;
      }
      text << in.rdbuf();
    }
    const auto status = google::protobuf::util::JsonStringToMessage(text.str(), e);
    if (!status.ok()) {
      *error = f.json_file + ": " + status.ToString();
      return false;
    }
    if (e->idempotency_key().empty()) e->set_idempotency_key(RandomKey());
    return true;
  }
  static const std::map<std::string, v1::HandlingRestriction> kTlp = {
      {"clear", v1::TLP_CLEAR},
      {"green", v1::TLP_GREEN},
      {"amber", v1::TLP_AMBER},
      {"amber-strict", v1::TLP_AMBER_STRICT},
      {"red", v1::TLP_RED}};
  v1::HandlingRestriction tlp;
  if (!Lookup(kTlp, f.handling, "--tlp", &tlp, error)) return false;
  e->set_handling(tlp);
  e->set_legal_basis(f.legal_basis);
  e->set_idempotency_key(f.idempotency_key.empty() ? RandomKey() : f.idempotency_key);

  if (type == "release") {
    static const std::map<std::string, v1::ReleaseKind> kKinds = {
        {"release", v1::RELEASE_KIND_RELEASE},
        {"parole", v1::RELEASE_KIND_PAROLE},
        {"leave", v1::RELEASE_KIND_LEAVE},
        {"transfer", v1::RELEASE_KIND_TRANSFER},
        {"escape", v1::RELEASE_KIND_ESCAPE}};
    auto* b = e->mutable_release_notice();
    FillPerson(f, b);
    v1::ReleaseKind kind;
    if (!Lookup(kKinds, f.release_kind, "--kind", &kind, error)) return false;
    b->set_kind(kind);
    b->set_note(f.note);
    return ParseTime(f.at, "--at", b->mutable_planned_at(), error);
  }
  if (type == "return") {
    auto* b = e->mutable_return_notice();
    FillPerson(f, b);
    b->set_note(f.note);
    return ParseTime(f.at, "--at", b->mutable_returned_at(), error);
  }
  if (type == "case") {
    auto* b = e->mutable_case_update();
    FillPerson(f, b);
    b->set_case_reference(f.case_reference);
    b->set_summary(f.text);
    return true;
  }
  static const std::map<std::string, v1::ConcernLevel> kLevels = {
      {"concern", v1::CONCERN_LEVEL_CONCERN},
      {"serious", v1::CONCERN_LEVEL_SERIOUS},
      {"very-serious", v1::CONCERN_LEVEL_VERY_SERIOUS}};
  auto* b = e->mutable_concern_report();
  FillPerson(f, b);
  b->set_description(f.text);
  v1::ConcernLevel level;
  if (!Lookup(kLevels, f.level, "--level", &level, error)) return false;
  b->set_level(level);
  return true;
}

}  // namespace infoflyt::cli
