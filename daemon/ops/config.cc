#include "ops/config.h"

#include <toml++/toml.h>

#include <filesystem>
#include <functional>
#include <tuple>
#include <vector>

#include "base/clock.h"
#include "base/host_port.h"
#include "store/pg_conn.h"

namespace infoflyt {
namespace {

namespace fs = std::filesystem;

std::string Line(const toml::node& node) {
  return "line " + std::to_string(node.source().begin.line);
}

constexpr int64_t kMicrosPerHour = 3600 * kMicrosPerSecond;

// [acknowledgement.<type>] tables. Only types that can reach a municipality take a rule.
Status ParseAckDeadlines(const std::string& path, const toml::node& section, AckDeadlines* out) {
  const toml::table* types = section.as_table();
  if (types == nullptr) return {Code::kInvalidArgument, path + " " + Line(section) + ": table"};
  for (const auto& [type_key, rule_node] : *types) {
    const std::string type(type_key.str());
    const std::string where = path + " " + Line(rule_node) + ": acknowledgement." + type;
    if (type != "release_notice" && type != "return_notice") {
      return {Code::kInvalidArgument,
              where + ": only release_notice and return_notice reach municipalities"};
    }
    const toml::table* t = rule_node.as_table();
    if (t == nullptr) return {Code::kInvalidArgument, where + " must be a table"};
    AckDeadlineRule rule;
    for (const auto& [key, value] : *t) {
      const std::string name(key.str());
      int64_t micros = 0;
      if (Status s = ParseDuration(value.value_or(std::string()), &micros); !s.ok()) {
        return {Code::kInvalidArgument, where + "." + name + ": " + s.message()};
      }
      if (name == "within") {
        rule.within = micros;
      } else if (name == "before_event") {
        rule.before_event = micros;
      } else if (name == "at_least") {
        rule.at_least = micros;
      } else {
        return {Code::kInvalidArgument,
                where + ": unknown key " + name + " (within, before_event, at_least)"};
      }
    }
    if (!rule.within && !rule.before_event) {
      return {Code::kInvalidArgument, where + ": needs within or before_event"};
    }
    out->Set(type, rule);
  }
  return Status::Ok();
}

}  // namespace

AckDeadlines Config::DefaultAckDeadlines() {
  AckDeadlines d;
  // The municipality should know a day before the release, and have two hours at the least.
  d.Set("release_notice", {std::nullopt, 24 * kMicrosPerHour, 2 * kMicrosPerHour});
  d.Set("return_notice", {24 * kMicrosPerHour, std::nullopt, 0});
  return d;
}

std::string DataKeyFile(const Config& c) {
  if (!c.data_key_file.empty()) return c.data_key_file;
  return (fs::path(c.subject_key_file).parent_path() / "data.key").string();
}

Status LoadConfigFile(const std::string& path, Config* c) {
  toml::table doc;
  try {
    doc = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return {Code::kInvalidArgument, path + " line " + std::to_string(e.source().begin.line) + ": " +
                                        std::string(e.description())};
  }
  const fs::path base = fs::absolute(path).parent_path();
  // Durations are parsed after the walk, so that a bad one is reported with its key.
  std::vector<std::tuple<std::string, std::string, int64_t*>> durations;  // key, text, target.
  // Each setter stores its value, or says what the value should have been.
  using Setter = std::function<std::string(const toml::node&)>;
  auto duration = [&durations](const char* key, int64_t* out) -> Setter {
    return [&durations, key, out](const toml::node& v) -> std::string {
      if (!v.is_string()) return "must be a duration such as \"30s\"";
      durations.emplace_back(key, v.value_or(std::string()), out);
      return "";
    };
  };
  auto file = [&](std::string* out) -> Setter {
    return [&base, out](const toml::node& v) -> std::string {
      if (!v.is_string()) return "must be a file name (a string)";
      fs::path p = v.value_or(std::string());
      *out = (p.is_relative() ? base / p : p).lexically_normal().string();
      return "";
    };
  };
  auto text = [](std::string* out) -> Setter {
    return [out](const toml::node& v) -> std::string {
      if (!v.is_string()) return "must be a string";
      *out = v.value_or(std::string());
      return "";
    };
  };
  auto size = [](size_t* out) -> Setter {
    return [out](const toml::node& v) -> std::string {
      const int64_t n = v.value_or(int64_t{-1});
      if (!v.is_integer() || n < 0) return "must be a whole number, 0 or more";
      *out = static_cast<size_t>(n);
      return "";
    };
  };
  auto flag = [](bool* out) -> Setter {
    return [out](const toml::node& v) -> std::string {
      if (!v.is_boolean()) return "must be true or false";
      *out = v.value_or(false);
      return "";
    };
  };
  auto texts = [](std::vector<std::string>* out) -> Setter {
    return [out](const toml::node& v) -> std::string {
      const toml::array* a = v.as_array();
      if (a == nullptr || (!a->empty() && !a->is_homogeneous(toml::node_type::string))) {
        return "must be a list of strings";
      }
      out->clear();
      for (const toml::node& item : *a) out->push_back(item.value_or(std::string()));
      return "";
    };
  };
  const std::map<std::string, std::map<std::string, Setter>> schema = {
      {"server",
       {{"listen", text(&c->listen)},
        {"http_listen", text(&c->http_listen)},
        {"max_message_bytes", size(&c->max_message_bytes)},
        {"max_streams_per_party", size(&c->max_streams_per_party)},
        {"max_connection_age", duration("server.max_connection_age", &c->max_connection_age)},
        {"max_connection_age_grace",
         duration("server.max_connection_age_grace", &c->max_connection_age_grace)},
        {"handshake_timeout", duration("server.handshake_timeout", &c->handshake_timeout)},
        {"self_probe_interval", duration("server.self_probe_interval", &c->self_probe_interval)},
        {"restart_wedged_listener", flag(&c->restart_wedged_listener)},
        {"max_connections", size(&c->max_connections)},
        {"max_connections_per_source", size(&c->max_connections_per_source)},
        {"memory_quota_mib", size(&c->memory_quota_mib)},
        {"instance", text(&c->instance)}}},
      {"web", {{"listen", text(&c->web_listen)}}},
      {"tls",
       {{"cert", file(&c->tls_cert)},
        {"key", file(&c->tls_key)},
        {"client_ca", file(&c->client_ca)},
        {"refresh_interval", duration("tls.refresh_interval", &c->tls_refresh_interval)},
        {"crl_directory", file(&c->crl_directory)},
        {"require_fresh_crl", flag(&c->require_fresh_crl)},
        {"trust_domain", text(&c->trust_domain)},
        {"trust_domain_issuers", texts(&c->trust_domain_issuers)}}},
      {"store",
       {{"backend", text(&c->store)},
        {"sqlite_path", file(&c->sqlite_path)},
        {"postgres_conninfo", text(&c->postgres_conninfo)},
        {"postgres_password_file", file(&c->postgres_password_file)},
        {"postgres_allow_fsync_off", flag(&c->postgres_allow_fsync_off)},
        {"commit_batch", size(&c->commit_batch)},
        {"max_queued_ops", size(&c->max_queued_ops)},
        {"sqlite_cache_mib", size(&c->sqlite_cache_mib)},
        {"data_key_file", file(&c->data_key_file)},
        {"purge_interval", duration("store.purge_interval", &c->purge_interval)}}},
      {"data",
       {{"municipalities", file(&c->municipalities)},
        {"police_districts", file(&c->police_districts)},
        {"parties", file(&c->parties)},
        {"legal_bases", file(&c->legal_bases)}}},
      {"audit", {{"subject_key_file", file(&c->subject_key_file)}}},
      {"log",
       {{"origin", text(&c->log_origin)},
        {"key_file", file(&c->log_key_file)},
        {"checkpoint_interval", duration("log.checkpoint_interval", &c->checkpoint_interval)},
        {"checkpoint_records", size(&c->checkpoint_records)},
        {"scrub_interval", duration("log.scrub_interval", &c->scrub_interval)}}},
  };
  for (const auto& [section_name, section] : doc) {
    const std::string name(section_name.str());
    if (name == "district_overrides") {
      const toml::table* t = section.as_table();
      if (t == nullptr) return {Code::kInvalidArgument, path + " " + Line(section) + ": table"};
      for (const auto& [number, district] : *t) {
        if (!district.is_string()) {
          return {Code::kInvalidArgument, path + " " + Line(district) + ": district_overrides." +
                                              std::string(number.str()) +
                                              " must be a police district's name (a string)"};
        }
        c->district_overrides[std::string(number.str())] = district.value_or(std::string());
      }
      continue;
    }
    if (name == "acknowledgement") {
      if (Status s = ParseAckDeadlines(path, section, &c->ack_deadlines); !s.ok()) return s;
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
      if (const std::string why = setter->second(value); !why.empty()) {
        return {Code::kInvalidArgument,
                path + " " + Line(value) + ": " + name + "." + std::string(key.str()) + " " + why};
      }
    }
  }
  for (const auto& [key, value, out] : durations) {
    if (Status s = ParseDuration(value, out); !s.ok()) {
      return {Code::kInvalidArgument, path + ": " + key + ": " + s.message()};
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
  HostPort unused;
  if (Status s = ParseHostPort(c.listen, "server.listen", &unused); !s.ok()) return s;
  if (!c.http_listen.empty()) {
    if (Status s = ParseHostPort(c.http_listen, "server.http_listen", &unused); !s.ok()) return s;
  }
  if (!c.web_listen.empty()) {
    if (Status s = ParseHostPort(c.web_listen, "web.listen", &unused); !s.ok()) return s;
  }
  if (c.store != "sqlite" && c.store != "postgres") {
    return {Code::kInvalidArgument,
            "store.backend must be \"sqlite\" or \"postgres\" (got \"" + c.store + "\")"};
  }
  if (c.store == "postgres") {
    if (c.postgres_conninfo.empty()) {
      return {Code::kInvalidArgument, "store.postgres_conninfo is required for postgres"};
    }
    if (Status s = CheckConnInfo(c.postgres_conninfo); !s.ok()) {
      return {Code::kInvalidArgument, "store.postgres_conninfo: " + s.message()};
    }
  }
  for (const std::string& issuer : c.trust_domain_issuers) {
    if (issuer.empty()) {
      return {Code::kInvalidArgument,
              "tls.trust_domain_issuers must be a list of CA subjects (RFC 2253 strings)"};
    }
  }
  if (c.require_fresh_crl && c.crl_directory.empty()) {
    return {Code::kInvalidArgument, "tls.require_fresh_crl needs tls.crl_directory"};
  }
  if (c.max_message_bytes < 1024 || c.max_message_bytes > size_t{4} * 1024 * 1024) {
    return {Code::kInvalidArgument, "server.max_message_bytes must be in [1024, 4194304]"};
  }
  if (c.max_streams_per_party == 0 || c.max_streams_per_party > 1024) {
    return {Code::kInvalidArgument, "server.max_streams_per_party must be in [1, 1024]"};
  }
  if (c.commit_batch == 0) return {Code::kInvalidArgument, "store.commit_batch must be > 0"};
  if (c.max_queued_ops == 0) return {Code::kInvalidArgument, "store.max_queued_ops must be > 0"};
  if (c.handshake_timeout < kMicrosPerSecond || c.self_probe_interval < kMicrosPerSecond) {
    return {Code::kInvalidArgument,
            "server.handshake_timeout and server.self_probe_interval must be at least 1s"};
  }
  if (c.max_connections == 0 || c.max_connections_per_source == 0 ||
      c.max_connections_per_source > c.max_connections) {
    return {Code::kInvalidArgument,
            "server.max_connections and server.max_connections_per_source must be > 0, the "
            "second at most the first"};
  }
  if (c.memory_quota_mib < 64) {
    return {Code::kInvalidArgument, "server.memory_quota_mib must be at least 64"};
  }
  if (c.sqlite_cache_mib == 0 || c.sqlite_cache_mib > 65536) {
    return {Code::kInvalidArgument, "store.sqlite_cache_mib must be in [1, 65536]"};
  }
  if (c.max_connection_age < kMicrosPerSecond || c.max_connection_age_grace < kMicrosPerSecond) {
    return {Code::kInvalidArgument,
            "server.max_connection_age and server.max_connection_age_grace must be at least 1s"};
  }
  if (c.tls_refresh_interval < kMicrosPerSecond) {
    return {Code::kInvalidArgument, "tls.refresh_interval must be at least 1s"};
  }
  if (c.checkpoint_interval < kMicrosPerSecond || c.checkpoint_records == 0) {
    return {Code::kInvalidArgument,
            "log.checkpoint_interval must be at least 1s and log.checkpoint_records > 0"};
  }
  if (c.purge_interval < kMicrosPerSecond) {
    return {Code::kInvalidArgument, "store.purge_interval must be at least 1s"};
  }
  if (c.scrub_interval < kMicrosPerSecond) {
    return {Code::kInvalidArgument, "log.scrub_interval must be at least 1s"};
  }
  if (c.log_origin.empty() || c.log_origin.find_first_of(" +\t\n") != std::string::npos) {
    return {Code::kInvalidArgument, "log.origin must be a name without spaces or '+'"};
  }
  return Status::Ok();
}

}  // namespace infoflyt
