// infoflyt: the command-line client for infoflytd.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "audit_command.h"
#include "envelope_flags.h"
#include "flag_command.h"
#include "infoflyt_client.h"
#include "output.h"
#include "receipt_command.h"

namespace {

using infoflyt::cli::Format;

const char* kFooter = R"(Connection settings may come from the environment: INFOFLYT_SERVER,
INFOFLYT_CERT, INFOFLYT_KEY, INFOFLYT_CA, INFOFLYT_SERVER_NAME.
Exit codes: 0 ok, 64 usage, 65 invalid input (or failed verification), 66 not found,
69 unavailable, 70 internal error, 74 cannot write a file, 75 timeout or try again,
76 precondition failed, 77 not permitted.)";

struct Globals {
  infoflyt::client::ClientOptions client;
  std::string output = "text";
  int timeout_seconds = 10;
};

void AddGlobals(CLI::App& app, Globals* g) {
  app.add_option("-s,--server", g->client.server, "infoflytd address host:port")
      ->envname("INFOFLYT_SERVER")
      ->capture_default_str();
  app.add_option("--cert", g->client.cert, "this party's client certificate (PEM)")
      ->envname("INFOFLYT_CERT");
  app.add_option("--key", g->client.key, "its private key (PEM)")->envname("INFOFLYT_KEY");
  app.add_option("--ca", g->client.ca, "CA certificate that issued the server's (PEM)")
      ->envname("INFOFLYT_CA");
  app.add_option("--server-name", g->client.server_name, "TLS name to expect from the server")
      ->envname("INFOFLYT_SERVER_NAME");
  app.add_option("-o,--output", g->output, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--timeout", g->timeout_seconds, "seconds per call")->capture_default_str();
}

int Connect(const Globals& g, std::unique_ptr<infoflyt::client::ExchangeClient>* client) {
  auto options = g.client;
  options.timeout = std::chrono::seconds(g.timeout_seconds);
  options.wait_for_ready = false;
  const grpc::Status status = infoflyt::client::ExchangeClient::Connect(options, client);
  if (!status.ok()) {
    std::cerr << "infoflyt: " << status.error_message() << "\n";
    return infoflyt::cli::kExitUsage;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"infoflyt - client for the infoflyt secure information exchange"};
  app.footer(kFooter);
  app.require_subcommand(1);
  Globals g;
  AddGlobals(app, &g);

  auto* post = app.add_subcommand("post", "post a message; prints its receipt");
  infoflyt::cli::EnvelopeFlags envelope_flags;
  std::string post_type;
  infoflyt::cli::AddPostCommands(post, &envelope_flags, &post_type);

  auto* subscribe = app.add_subcommand("subscribe", "print deliveries as they arrive");
  uint64_t from = 0;
  bool ack_after_print = false;
  int count = 0;
  subscribe->add_option("--from", from,
                        "replay from this delivery id (default: first unacknowledged)");
  subscribe->add_flag(
      "--ack", ack_after_print,
      "acknowledge each delivery after printing it (not one marked unreadable or erased)");
  subscribe->add_option("--count", count, "exit after this many deliveries (0: never)");

  auto* ack = app.add_subcommand("ack", "acknowledge deliveries");
  std::vector<uint64_t> ack_ids;
  ack->add_option("delivery_id", ack_ids, "delivery ids")->required();

  auto* flag = app.add_subcommand("flag", "flagged persons (PST, police, correctional)");
  flag->require_subcommand(1);
  auto* flag_add = flag->add_subcommand("add", "flag a person; prints the flag");
  infoflyt::v1::FlagRequest flag_request;
  std::string flag_reason;
  std::string flag_expires;
  flag_add
      ->add_option("--national-id", *flag_request.mutable_national_id(),
                   "fødselsnummer or D-number (or INFOFLYT_NATIONAL_ID)")
      ->envname("INFOFLYT_NATIONAL_ID")
      ->required();
  flag_add
      ->add_option("--reason", flag_reason,
                   "returned-foreign-fighter|terror-convict|radicalisation-concern")
      ->required();
  flag_add
      ->add_option("--basis", *flag_request.mutable_legal_basis(),
                   "legal basis for telling the home municipality, e.g. polregl-27-2")
      ->required();
  flag_add->add_option("--expires", flag_expires, "when the flag ends, RFC 3339");
  auto* flag_remove = flag->add_subcommand("remove", "end a flag (history is kept)");
  std::string flag_id;
  flag_remove->add_option("flag_id", flag_id, "flag id")->required();
  auto* flag_list = flag->add_subcommand("list", "list flags (PST, police)");
  infoflyt::v1::ListFlagsRequest list_request;
  flag_list->add_option("--national-id", *list_request.mutable_national_id(),
                        "only this person's flags");
  bool include_inactive = false;
  flag_list->add_flag("--all", include_inactive, "include ended and expired flags");

  auto* status = app.add_subcommand("status", "show who has received a message you sent");
  std::string message_id;
  status->add_option("message_id", message_id, "message id from the receipt")->required();
  std::string evidence_out;
  status->add_option("--evidence", evidence_out,
                     "also save proof of each recipient's delivery and acknowledgement to FILE, "
                     "for `infoflyt audit verify-receipt`");

  auto* audit = app.add_subcommand(
      "audit",
      "the disclosure log (auditors): query, subject access, checkpoints, proofs, "
      "export, offline verify");
  infoflyt::cli::AuditFlags audit_flags;
  infoflyt::cli::AddAuditCommands(audit, &audit_flags);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 echoes unexpected arguments, which may be an identity number typed without its flag.
    std::ostringstream err;
    const int code = app.exit(e, std::cout, err);
    std::cerr << infoflyt::cli::RedactIdentityNumbers(err.str());
    return code == 0 ? 0 : infoflyt::cli::kExitUsage;
  }
  const Format format = g.output == "json" ? Format::kJson : Format::kText;
  if (audit->parsed() && !infoflyt::cli::AuditNeedsServer(audit_flags)) {
    return infoflyt::cli::RunAuditCommand(nullptr, audit_flags, format);
  }
  std::unique_ptr<infoflyt::client::ExchangeClient> client;
  if (int rc = Connect(g, &client); rc != 0) return rc;

  if (post->parsed()) {
    infoflyt::v1::Envelope envelope;
    std::string error;
    if (!infoflyt::cli::BuildEnvelope(post_type, envelope_flags, &envelope, &error)) {
      std::cerr << "infoflyt: " << error << "\n";
      return infoflyt::cli::kExitUsage;
    }
    infoflyt::v1::Receipt receipt;
    const grpc::Status s = client->Post(envelope, &receipt);
    if (!s.ok()) return infoflyt::cli::ReportError(s, format);
    infoflyt::cli::PrintReceipt(receipt, format);
    return 0;
  }
  if (subscribe->parsed()) {
    grpc::ClientContext context;
    int seen = 0;
    bool reached_count = false;
    grpc::Status ack_error;
    const grpc::Status s =
        client->Subscribe(from, &context, [&](const infoflyt::v1::Delivery& delivery) {
          infoflyt::cli::PrintDelivery(delivery, format);
          // An unreadable one is left for a person to see to (and the sender to resend), and
          // an erased one too: acknowledging it would say it was read.
          if (ack_after_print && !delivery.unreadable() && !delivery.erased()) {
            infoflyt::v1::AckResponse response;
            ack_error = client->Ack({delivery.delivery_id()}, &response);
            if (!ack_error.ok()) return false;
          }
          reached_count = count > 0 && ++seen >= count;
          return !reached_count;
        });
    if (!ack_error.ok()) return infoflyt::cli::ReportError(ack_error, format);
    if (reached_count) return 0;
    return infoflyt::cli::ReportError(s, format);
  }
  if (ack->parsed()) {
    infoflyt::v1::AckResponse response;
    const grpc::Status s = client->Ack(ack_ids, &response);
    if (!s.ok()) return infoflyt::cli::ReportError(s, format);
    if (format == Format::kJson) {
      infoflyt::cli::PrintJson(response);
    } else {
      std::cout << "acknowledged " << ack_ids.size() << " (" << response.newly_acknowledged()
                << " new)" << std::endl;
    }
    return 0;
  }
  if (audit->parsed()) return infoflyt::cli::RunAuditCommand(client.get(), audit_flags, format);
  if (flag->parsed()) {
    return infoflyt::cli::RunFlagCommand(*client, format, flag_add->parsed(), flag_remove->parsed(),
                                         flag_reason, flag_expires, flag_request, flag_id,
                                         include_inactive, list_request);
  }
  infoflyt::v1::MessageStatus message_status;
  const grpc::Status s = client->GetMessageStatus(message_id, &message_status);
  if (!s.ok()) return infoflyt::cli::ReportError(s, format);
  infoflyt::cli::PrintMessageStatus(message_status, format);
  if (!evidence_out.empty()) {
    return infoflyt::cli::SaveReceiptEvidence(*client, message_id, evidence_out, format);
  }
  return 0;
}
