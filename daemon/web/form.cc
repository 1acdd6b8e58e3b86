#include "web/form.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>

namespace infoflyt {
namespace {

std::string FieldId(const std::string& path) {
  std::string id = "f-" + path;
  std::replace(id.begin(), id.end(), '.', '-');
  return id;
}

TemplateData FieldData(const FormField& field, const std::string& value, const std::string& error) {
  TemplateData d;
  d.set("name", field.path);
  d.set("id", FieldId(field.path));
  d.set("label", field.label);
  // Mustache takes an empty string for true: sections test these flags instead.
  d.set("hint", field.hint);
  d.set("has_hint", !field.hint.empty());
  d.set("has_error", !error.empty());
  d.set("value", value);
  d.set("error", error);
  d.set("required", field.required);
  d.set("autocomplete", field.autocomplete);
  d.set("is_select", field.input == Input::kSelect);
  d.set("is_textarea", field.input == Input::kTextarea);
  d.set("is_input", field.input != Input::kSelect && field.input != Input::kTextarea);
  static const std::map<Input, std::string> kTypes = {{Input::kText, "text"},
                                                      {Input::kDateTime, "datetime-local"},
                                                      {Input::kEmail, "email"},
                                                      {Input::kTel, "tel"}};
  if (auto it = kTypes.find(field.input); it != kTypes.end()) d.set("type", it->second);
  TemplateData options{TemplateData::type::list};
  for (const auto& [v, text] : field.options) {
    TemplateData o;
    o.set("value", v);
    o.set("text", text);
    o.set("selected", v == value);
    options << o;
  }
  d.set("options", options);
  return d;
}

}  // namespace

FormField Field(std::string path, std::string label, Input input, bool required, std::string hint,
                std::vector<std::pair<std::string, std::string>> options,
                std::string autocomplete) {
  return {std::move(path),    std::move(label),       input, required, std::move(hint),
          std::move(options), std::move(autocomplete)};
}

TemplateData FormData(const std::vector<FormField>& fields,
                      const std::map<std::string, std::string>& values,
                      const std::map<std::string, std::string>& errors) {
  TemplateData rows{TemplateData::type::list};
  TemplateData summary{TemplateData::type::list};
  auto add_to_summary = [&summary](const std::string& href, const std::string& text) {
    TemplateData item;
    if (!href.empty()) item.set("href", href);
    item.set("text", text);
    summary << item;
  };
  std::map<std::string, std::string> unplaced = errors;  // Errors no field shows.
  for (const FormField& field : fields) {
    auto value = values.find(field.path);
    const std::string message = unplaced.contains(field.path) ? unplaced[field.path] : "";
    unplaced.erase(field.path);
    rows << FieldData(field, value == values.end() ? "" : value->second, message);
    if (!message.empty()) add_to_summary("#" + FieldId(field.path), field.label + ": " + message);
  }
  for (const auto& [path, message] : unplaced) {
    add_to_summary("", (path.empty() ? "" : path + ": ") + message);
  }
  TemplateData data;
  TemplateData form;
  form.set("fields", rows);
  form.set("has_errors", !errors.empty());
  form.set("errors", summary);
  data.set("fields_html", RenderTemplate("form_fields", form));
  data.set("has_errors", !errors.empty());
  return data;
}

std::string FormJson(const std::vector<FormField>& fields,
                     const std::map<std::string, std::string>& values) {
  // Nested objects of the paths; strings are escaped by protobuf's own JSON writer.
  google::protobuf::Struct root;
  for (const FormField& field : fields) {
    auto it = values.find(field.path);
    if (it == values.end() || it->second.empty()) continue;
    std::string value = it->second;
    if (field.input == Input::kDateTime && value.size() == 16) value += ":00Z";
    google::protobuf::Struct* node = &root;
    std::string path = field.path;
    for (size_t dot; (dot = path.find('.')) != std::string::npos; path = path.substr(dot + 1)) {
      node = (*node->mutable_fields())[path.substr(0, dot)].mutable_struct_value();
    }
    (*node->mutable_fields())[path].set_string_value(value);
  }
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(root, &json);
  return json;
}

std::map<std::string, std::string> FieldErrors(const Status& status, std::string_view prefix) {
  std::map<std::string, std::string> errors;
  for (const FieldViolation& v : status.violations()) {
    std::string path = v.field;
    if (path.starts_with(prefix)) path = path.substr(prefix.size());
    std::string& message = errors[path];
    message += (message.empty() ? "" : "; ") + v.description;
  }
  if (errors.empty()) errors[""] = status.message();
  return errors;
}

}  // namespace infoflyt
