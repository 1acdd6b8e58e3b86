// Command-line flags for `infoflyt post <type>`, and the envelope they build.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "infoflyt/v1/messages.pb.h"

namespace infoflyt::cli {

// Flag values shared by all message types; each `post` subcommand binds the ones it uses.
struct EnvelopeFlags {
  std::string idempotency_key;  // Default: a fresh random key.
  std::string legal_basis;
  std::string handling = "amber";
  std::string national_id;
  std::string given_name;
  std::string family_name;
  std::string municipality;
  std::string contact_name;
  std::string contact_unit;
  std::string contact_phone;
  std::string contact_email;
  std::string note;
  std::string release_kind;
  std::string at;  // RFC 3339 time: planned release / return.
  std::string case_reference;
  std::string text;  // Case summary or concern description.
  std::string level;
  std::string json_file;  // `post json`: a whole Envelope in proto3 JSON.
};

// Adds `post release|return|case|concern|json` to `post`, binding into `flags`. Each subcommand
// records its message type into `type`.
void AddPostCommands(CLI::App* post, EnvelopeFlags* flags, std::string* type);

// Builds the envelope from the flags of subcommand `type`. On error, `error` says which flag.
bool BuildEnvelope(const std::string& type, const EnvelopeFlags& flags, v1::Envelope* envelope,
                   std::string* error);

}  // namespace infoflyt::cli
