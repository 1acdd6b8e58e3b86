#include "ops/config.h"

#include <toml++/toml.h>

#include <filesystem>
#include <functional>

namespace infoflyt {
namespace {

namespace fs = std::filesystem;

std::string Line(const toml::node& node) {
  return "line " + std::to_string(node.source().begin.line);
}

}  // namespace

Status LoadConfigFile(const std::string& path, Config* c) {
  toml::table doc;
  try {
    doc = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return {Code::kInvalidArgument, path + " line " + std::to_string(e.source().begin.line) + ": " +
                                        std::string(e.description())};
  }
  const fs::path base = fs::absolute(path).parent_path();
  auto file = [&](std::string* out) {
    return [&base, out](const toml::node& v) {
      fs::path p = v.value_or(std::string());
      *out = (p.is_relative() ? base / p : p).lexically_normal().string();
    };
  };
  auto text = [](std::string* out) {
    return [out](const toml::node& v) { *out = v.value_or(std::string()); };
  };
  auto size = [](size_t* out) {
    return [out](const toml::node& v) { *out = static_cast<size_t>(v.value_or(int64_t{0})); };
  };
  using Setter = std::function<void(const toml::node&)>;
  const std::map<std::string, std::map<std::string, Setter>> schema = {
      {"server",
       {{"listen", text(&c->listen)},
        {"http_listen", text(&c->http_listen)},
        {"max_message_bytes", size(&c->max_message_bytes)},
        {"instance", text(&c->instance)}}},
      {"tls",
       {{"cert", file(&c->tls_cert)},
        {"key", file(&c->tls_key)},
        {"client_ca", file(&c->client_ca)},
        {"trust_domain", text(&c->trust_domain)}}},
      {"store",
       {{"backend", text(&c->store)},
        {"sqlite_path", file(&c->sqlite_path)},
        {"commit_batch", size(&c->commit_batch)}}},
      {"data",
       {{"municipalities", file(&c->municipalities)},
        {"police_districts", file(&c->police_districts)},
        {"parties", file(&c->parties)},
        {"legal_bases", file(&c->legal_bases)}}},
      {"audit", {{"subject_key_file", file(&c->subject_key_file)}}},
  };
  for (const auto& [section_name, section] : doc) {
    const std::string name(section_name.str());
    if (name == "district_overrides") {
      const toml::table* t = section.as_table();
      if (t == nullptr) return {Code::kInvalidArgument, path + " " + Line(section) + ": table"};
      for (const auto& [number, district] : *t) {
        c->district_overrides[std::string(number.str())] = district.value_or(std::string());
      }
      continue;
    }
    auto known = schema.find(name);
    const toml::table* t = section.as_table();
    if (known == schema.end() || t == nullptr) {
      return {Code::kInvalidArgument,
              path + " " + Line(section) + ": unknown section [" + name + "]"};
    }
    for (const auto& [key, value] : *t) {
      auto setter = known->second.find(std::string(key.str()));
      if (setter == known->second.end()) {
        return {Code::kInvalidArgument,
                path + " " + Line(value) + ": unknown key " + name + "." + std::string(key.str())};
      }
      setter->second(value);
    }
  }
  return Status::Ok();
}

Status CheckConfig(const Config& c) {
  const std::pair<const char*, const std::string*> required[] = {
      {"tls.cert", &c.tls_cert},
      {"tls.key", &c.tls_key},
      {"tls.client_ca", &c.client_ca},
      {"data.municipalities", &c.municipalities},
      {"data.police_districts", &c.police_districts},
      {"data.parties", &c.parties},
      {"data.legal_bases", &c.legal_bases},
  };
  for (const auto& [name, value] : required) {
    if (value->empty()) return {Code::kInvalidArgument, std::string(name) + " is required"};
  }
  if (c.store != "sqlite") {
    return {Code::kInvalidArgument, "store.backend must be \"sqlite\" (got \"" + c.store + "\")"};
  }
  if (c.max_message_bytes < 1024 || c.max_message_bytes > size_t{4} * 1024 * 1024) {
    return {Code::kInvalidArgument, "server.max_message_bytes must be in [1024, 4194304]"};
  }
  if (c.commit_batch == 0) return {Code::kInvalidArgument, "store.commit_batch must be > 0"};
  return Status::Ok();
}

}  // namespace infoflyt
