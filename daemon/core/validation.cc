#include "core/validation.h"

#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/unknown_field_set.h>

#include <string>
#include <vector>

#include "base/clock.h"
#include "core/message_body.h"
#include "core/national_id.h"

namespace infoflyt {
namespace {

constexpr size_t kMaxName = 200;
constexpr size_t kMaxText = 4000;
constexpr size_t kMaxReference = 100;

// Fields this daemon does not know, at `path` and below: a view (a FieldMask) clears only the
// fields it knows, so an unknown one would reach every recipient outside any view.
void FindUnknownFields(const google::protobuf::Message& m, const std::string& path,
                       std::vector<FieldViolation>* out) {
  const google::protobuf::Reflection& reflection = *m.GetReflection();
  const google::protobuf::UnknownFieldSet& unknown = reflection.GetUnknownFields(m);
  for (int i = 0; i < unknown.field_count(); ++i) {
    out->push_back({path, "carries field number " + std::to_string(unknown.field(i).number()) +
                              ", which this daemon does not know: remove it (a newer client's "
                              "field cannot be checked or kept out of a view)"});
  }
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection.ListFields(m, &fields);
  for (const google::protobuf::FieldDescriptor* f : fields) {
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const std::string at = path + "." + f->name();
    if (!f->is_repeated()) {
      FindUnknownFields(reflection.GetMessage(m, f), at, out);
      continue;
    }
    for (int i = 0; i < reflection.FieldSize(m, f); ++i) {
      FindUnknownFields(reflection.GetRepeatedMessage(m, f, i), at + "[" + std::to_string(i) + "]",
                        out);
    }
  }
}

// Collects violations under a common path prefix.
class Checker {
 public:
  explicit Checker(std::vector<FieldViolation>* out) : out_(out) {}

  void Add(const std::string& field, std::string why) {
    out_->push_back({"envelope." + field, std::move(why)});
  }
  void Text(const std::string& field, const std::string& value, size_t max, bool required) {
    if (required && value.empty()) {
      Add(field, "is required");
    } else if (value.size() > max) {
      Add(field, "is longer than " + std::to_string(max) + " bytes");
    }
  }
  void Time(const std::string& field, const google::protobuf::Timestamp& t, bool present,
            int64_t earliest, int64_t latest) {
    if (!present) {
      Add(field, "is required");
      return;
    }
    if (t.nanos() < 0 || t.nanos() > 999'999'999) {
      Add(field, "nanos must be in [0, 999999999]");
      return;
    }
    const int64_t micros = t.seconds() * kMicrosPerSecond;
    if (micros < earliest || micros > latest) {
      Add(field, "must be between " + FormatRfc3339(earliest) + " and " + FormatRfc3339(latest));
    }
  }

 private:
  std::vector<FieldViolation>* out_;
};

bool IsPhone(const std::string& s) {
  const size_t digits_start = (!s.empty() && s[0] == '+') ? 1 : 0;
  return s.size() >= 3 && s.size() <= 24 &&
         s.find_first_not_of("0123456789 ", digits_start) == std::string::npos;
}

bool IsIdempotencyKey(const std::string& s) {
  static constexpr std::string_view kAllowed =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-";
  return !s.empty() && s.size() <= 128 && s.find_first_not_of(kAllowed) == std::string::npos;
}

void CheckPerson(Checker& c, const std::string& path, const v1::Person& person, bool present) {
  if (!present) {
    c.Add(path, "is required");
    return;
  }
  if (std::string problem = NationalIdProblem(person.national_id()); !problem.empty()) {
    c.Add(path + ".national_id", std::move(problem));
  }
  c.Text(path + ".given_name", person.given_name(), kMaxName, true);
  c.Text(path + ".family_name", person.family_name(), kMaxName, true);
}

void CheckContact(Checker& c, const std::string& path, const v1::Contact& contact, bool present) {
  if (!present) {
    c.Add(path, "is required");
    return;
  }
  c.Text(path + ".name", contact.name(), kMaxName, true);
  c.Text(path + ".unit", contact.unit(), kMaxName, false);
  if (!IsPhone(contact.phone())) {
    c.Add(path + ".phone", "must be 3-24 digits or spaces, optionally starting with '+'");
  }
  if (!contact.email().empty() &&
      (contact.email().size() > 254 || contact.email().find('@') == std::string::npos)) {
    c.Add(path + ".email", "must be an e-mail address");
  }
}

void CheckMunicipality(Checker& c, const std::string& path, const std::string& number,
                       const Places& places) {
  if (number.empty()) {
    c.Add(path, "is required");
  } else if (places.Find(number) == nullptr) {
    // The value is not echoed: a misplaced identity number must not end up in an error text.
    c.Add(path, "is not a kommunenummer in the municipality list (4 digits, e.g. 0301)");
  }
}

}  // namespace

Status ValidateEnvelope(const v1::Envelope& e, const Places& places,
                        const LegalBasisCatalogue& bases, int64_t now) {
  std::vector<FieldViolation> violations;
  FindUnknownFields(e, "envelope", &violations);
  Checker c(&violations);
  if (!IsIdempotencyKey(e.idempotency_key())) {
    c.Add("idempotency_key", "must be 1-128 characters of [A-Za-z0-9._:-]");
  }
  if (e.legal_basis().empty()) {
    c.Add("legal_basis", "is required");
  } else if (bases.Find(e.legal_basis()) == nullptr) {
    c.Add("legal_basis", bases.UnknownIdDescription());
  }
  if (e.handling() == v1::HANDLING_RESTRICTION_UNSPECIFIED ||
      !v1::HandlingRestriction_IsValid(e.handling())) {
    c.Add("handling", "must be a TLP 2.0 level (TLP_CLEAR .. TLP_RED)");
  }
  const MessageBody body = BodyOf(e);
  if (body.type.empty()) {
    c.Add("body", "one of release_notice, return_notice, case_update, concern_report is required");
    return Status::InvalidArgument(std::move(violations));
  }
  const std::string p(body.type);
  switch (e.body_case()) {
    case v1::Envelope::kReleaseNotice: {
      const auto& b = e.release_notice();
      CheckPerson(c, p + ".person", b.person(), b.has_person());
      if (b.kind() == v1::RELEASE_KIND_UNSPECIFIED || !v1::ReleaseKind_IsValid(b.kind())) {
        c.Add(p + ".kind", "must be one of RELEASE, PAROLE, LEAVE, TRANSFER, ESCAPE");
      }
      c.Time(p + ".planned_at", b.planned_at(), b.has_planned_at(), now - 31 * kMicrosPerDay,
             now + 3653 * kMicrosPerDay);
      CheckMunicipality(c, p + ".home_municipality", b.home_municipality(), places);
      CheckContact(c, p + ".contact", b.contact(), b.has_contact());
      c.Text(p + ".note", b.note(), kMaxText, false);
      break;
    }
    case v1::Envelope::kReturnNotice: {
      const auto& b = e.return_notice();
      CheckPerson(c, p + ".person", b.person(), b.has_person());
      c.Time(p + ".returned_at", b.returned_at(), b.has_returned_at(), now - 1827 * kMicrosPerDay,
             now + kMicrosPerDay);
      CheckMunicipality(c, p + ".home_municipality", b.home_municipality(), places);
      CheckContact(c, p + ".contact", b.contact(), b.has_contact());
      c.Text(p + ".note", b.note(), kMaxText, false);
      break;
    }
    case v1::Envelope::kCaseUpdate: {
      const auto& b = e.case_update();
      CheckPerson(c, p + ".person", b.person(), b.has_person());
      c.Text(p + ".case_reference", b.case_reference(), kMaxReference, true);
      CheckMunicipality(c, p + ".home_municipality", b.home_municipality(), places);
      c.Text(p + ".summary", b.summary(), kMaxText, true);
      CheckContact(c, p + ".contact", b.contact(), b.has_contact());
      break;
    }
    case v1::Envelope::kConcernReport: {
      const auto& b = e.concern_report();
      CheckPerson(c, p + ".person", b.person(), b.has_person());
      CheckMunicipality(c, p + ".home_municipality", b.home_municipality(), places);
      if (b.level() == v1::CONCERN_LEVEL_UNSPECIFIED || !v1::ConcernLevel_IsValid(b.level())) {
        c.Add(p + ".level", "must be one of CONCERN, SERIOUS, VERY_SERIOUS");
      }
      c.Text(p + ".description", b.description(), kMaxText, true);
      CheckContact(c, p + ".contact", b.contact(), b.has_contact());
      break;
    }
    case v1::Envelope::kEscalationNotice:
      c.Add(p, "is sent by infoflytd itself when a deadline passes; parties cannot post it");
      break;
    case v1::Envelope::BODY_NOT_SET:
      break;
  }
  if (violations.empty()) return Status::Ok();
  return Status::InvalidArgument(std::move(violations));
}

}  // namespace infoflyt
