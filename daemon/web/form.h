// HTML forms whose fields are named by their path in a request message
// ("release_notice.person.given_name"), so a posted form becomes the message through protobuf's
// JSON parser, and the API's own field violations come back to the fields they name. Each field
// has its label, hint and error tied to it (aria-describedby, aria-invalid), and a summary at
// the top links to every error (templates/form_fields.mustache).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "web/page.h"

namespace infoflyt {

// How a field is entered.
enum class Input { kText, kSelect, kTextarea, kDateTime, kEmail, kTel };

// One field of a form.
struct FormField {
  std::string path;  // In the request message, e.g. "release_notice.person.national_id".
  std::string label;
  Input input = Input::kText;
  bool required = false;
  std::string hint;
  std::vector<std::pair<std::string, std::string>> options;  // For selects: value, text.
  std::string autocomplete = "off";
};

// A field, briefly.
FormField Field(std::string path, std::string label, Input input, bool required,
                std::string hint = {},
                std::vector<std::pair<std::string, std::string>> options = {},
                std::string autocomplete = "off");

// {fields_html, has_errors, errors} for a form template: `fields` with their `values` and the
// `errors` by path ("" or a path no field has: in the summary only).
TemplateData FormData(const std::vector<FormField>& fields,
                      const std::map<std::string, std::string>& values,
                      const std::map<std::string, std::string>& errors);

// The posted `values` of `fields` as JSON of the request message: each non-empty value at its
// path, date-times ("2027-01-15T09:00") as RFC 3339 UTC.
std::string FormJson(const std::vector<FormField>& fields,
                     const std::map<std::string, std::string>& values);

// The field violations of `status` by path, `prefix` (e.g. "envelope.") taken off; its message
// under "" if it has none.
std::map<std::string, std::string> FieldErrors(const Status& status, std::string_view prefix);

}  // namespace infoflyt
