// Revocation reaches what is already open, against the real daemon over mTLS without a
// restart: a CRL, a fingerprint on the parties registry's deny-list (plus SIGHUP) and a party
// removed each end the open Subscribe streams of the certificate at once and refuse its next
// connection; a CRL past its nextUpdate is a warning, or with tls.require_fresh_crl refuses.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "integration/pki_actions.h"
#include "integration/subscriber.h"
#include "integration/test_daemon.h"
#include "integration/workers.h"
#include "test_util.h"

namespace infoflyt::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// What the daemon's log must say about a stream that lost its trust.
void ExpectStreamEndedLine(const TestDaemon& daemon, const std::string& reason) {
  const std::string value = reason.find(' ') == std::string::npos ? reason : '"' + reason + '"';
  const std::string line = "event=stream_ended reason=" + value + " rpc=Exchange/Subscribe";
  EXPECT_TRUE(Eventually([&] { return daemon.Log().find(line) != std::string::npos; }))
      << daemon.Log();
}

// Sends SIGHUP and waits for the reload to be logged.
void Reload(const TestDaemon& daemon) {
  const int before = CountOccurrences(daemon.Log(), "SIGHUP: reloaded");
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(Eventually([&] {
    return CountOccurrences(daemon.Log(), "SIGHUP: reloaded") > before;
  })) << daemon.Log();
}

// The party's stream and another party's, both open and flowing.
struct TwoStreams {
  explicit TwoStreams(const TestDaemon& daemon)
      : oslo(daemon.Client("police-oslo")),
        bergen(daemon.Client("police-vest")),
        oslo_stream(oslo.get()),
        bergen_stream(bergen.get()) {}
  std::unique_ptr<client::ExchangeClient> oslo;
  std::unique_ptr<client::ExchangeClient> bergen;
  Subscriber oslo_stream;
  Subscriber bergen_stream;
};

TEST(RevocationTest, ACrlEndsTheOpenStreamsOfTheCertificateAndRefusesItsNextConnection) {
  TestDaemon daemon;
  const std::string pki = CopyOfTheCa(StateDir(daemon));
  daemon.set_tls_config("crl_directory = \"" + pki + "/crl\"\n");
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  TwoStreams streams(daemon);
  auto prison = daemon.Client("correctional-oslo-fengsel");
  v1::Receipt first;
  ASSERT_TRUE(prison->Post(ReleaseNotice("before-revocation"), &first).ok());
  ASSERT_TRUE(streams.oslo_stream.WaitForMessage(first.message_id()));

  Revoke(pki, "police/oslo");
  const auto revoked_at = steady_clock::now();
  // Bound: the CRL directory is checked every tls.refresh_interval (1 s here).
  ASSERT_TRUE(streams.oslo_stream.WaitEnded(std::chrono::seconds(5))) << daemon.Log();
  std::cerr << "stream ended "
            << std::chrono::duration_cast<milliseconds>(steady_clock::now() - revoked_at).count()
            << " ms after the CRL was published (refresh interval 1 s)\n";
  EXPECT_EQ(streams.oslo_stream.status().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(streams.oslo_stream.status().error_message().find("client certificate is revoked"), 0u)
      << streams.oslo_stream.status().error_message();
  ExpectStreamEndedLine(daemon, "revoked");

  // The next connection is refused (per call at once, at the handshake once gRPC re-reads).
  const grpc::Status next = PostAsNewClient(daemon, "police-oslo", "after-revocation");
  EXPECT_TRUE(next.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
              next.error_code() == grpc::StatusCode::UNAVAILABLE)
      << next.error_message();
  // Other parties still subscribe and get what is posted.
  v1::Receipt second;
  ASSERT_TRUE(prison->Post(ReleaseNotice("after-revocation"), &second).ok());
  EXPECT_FALSE(streams.bergen_stream.WaitEnded(std::chrono::seconds(0)));
  EXPECT_GE(MetricValue(daemon.Metrics(), "infoflyt_auth_failures_total{reason=\"revoked\"}"), 1);
}

// The web port trusts and revokes as the gRPC port does (the same handshake verifier): a CRL
// refuses the certificate's next browser connection at the handshake, reported with it.
TEST(RevocationTest, ACrlRefusesTheCertificateAtTheWebPortToo) {
  TestDaemon daemon;
  const std::string pki = CopyOfTheCa(StateDir(daemon));
  daemon.set_tls_config("crl_directory = \"" + pki + "/crl\"\n");
  daemon.set_extra_config("[web]\nlisten = \"127.0.0.1:0\"\n");
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  std::string web;
  ASSERT_TRUE(Eventually([&] {
    const std::string log = daemon.Log();
    const size_t at = log.find("listening web=https://");
    if (at == std::string::npos) return false;
    web = log.substr(at + 22, log.find(' ', at + 22) - at - 22);
    return true;
  })) << daemon.Log();
  // The status of GET / as `party` ("000": no answer, the handshake refused).
  auto get = [&](const std::string& party) {
    const std::string cert = Pki().dir + "/parties/" + party;
    const std::string command = "curl -sk -o /dev/null -w '%{http_code}' --cert " + cert +
                                ".pem --key " + cert + ".key https://" + web + "/";
    std::string out;
    FILE* p = popen(command.c_str(), "r");
    for (int c; p != nullptr && (c = fgetc(p)) != EOF;) out += static_cast<char>(c);
    if (p != nullptr) pclose(p);
    return out;
  };
  ASSERT_EQ(get("police-oslo"), "200") << daemon.Log();
  Revoke(pki, "police/oslo");
  EXPECT_TRUE(Eventually([&] { return get("police-oslo") == "000"; })) << daemon.Log();
  // The refusal is a security event naming the certificate.
  bool reported = false;
  std::istringstream lines(daemon.Log());
  for (std::string line; std::getline(lines, line);) {
    reported |= line.find("reason=revoked") != std::string::npos &&
                line.find("/police/oslo") != std::string::npos;
  }
  EXPECT_TRUE(reported) << daemon.Log();
  EXPECT_EQ(get("police-vest"), "200");  // Others still are served.
}

// A root (pathlen 1) of its own with an intermediate CA that issues police/oslo, in `dir`, laid
// out as certs/make-dev-pki.sh keeps a CA (ca.pem, ca.key, ca-db/, crl/, the intermediate as
// parties/ca-intermediate.pem), so that the script revokes there. The client's certificate
// file holds its certificate and the intermediate's.
void MakeIntermediatePki(const std::string& dir) {
  const std::string script = dir + "/intermediate.sh";
  std::ofstream(script) << R"sh(set -e
cd "$1"; mkdir -p crl ca-db parties
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
# issue <name> <subject> <issuer> <extensions>
issue() {
  key "$1.key"
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -set_serial "0x$(openssl rand -hex 8)" \
    -days 30 -extfile <(printf "$4") -out "$1.pem" 2>/dev/null
}
key ca.key
openssl req -x509 -new -key ca.key -days 30 -subj "/CN=test root" -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:1" -addext "keyUsage=critical,keyCertSign,cRLSign"
issue inter "/CN=test intermediate" ca \
  'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n'
issue oslo "/CN=oslo" inter 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectAltName=URI:spiffe://infoflyt.test/police/oslo\n'
cat inter.pem >> oslo.pem
cp inter.pem parties/ca-intermediate.pem
: > ca-db/index.txt; echo 1000 > ca-db/crlnumber
)sh";
  ASSERT_EQ(std::system(("bash " + script + " " + dir).c_str()), 0);
}

// Makes the intermediate PKI in the daemon's directory and adds its root to the daemon's client
// CA bundle (beside the test PKI's CA); returns the PKI's directory.
std::string TrustTheIntermediatePki(TestDaemon* daemon) {
  const std::string dir = StateDir(*daemon) + "/inter";
  std::filesystem::create_directories(dir);
  MakeIntermediatePki(dir);
  std::ofstream(dir + "/bundle.pem")
      << ReadFile(Pki().dir + "/ca.pem") << ReadFile(dir + "/ca.pem");
  daemon->set_client_ca(dir + "/bundle.pem");
  return dir;
}

// Client options for police/oslo with the certificate the intermediate issued.
client::ClientOptions IntermediateOslo(const TestDaemon& daemon, const std::string& dir) {
  client::ClientOptions options = daemon.Options("police-oslo");
  options.cert = dir + "/oslo.pem";
  options.key = dir + "/oslo.key";
  return options;
}

// A revoked intermediate CA: the stream of a certificate it issued ends too, though the
// certificate itself is in no CRL.
TEST(RevocationTest, ARevokedIntermediateCaEndsTheStreamsOfTheCertificatesItIssued) {
  TestDaemon daemon;
  const std::string dir = TrustTheIntermediatePki(&daemon);
  daemon.set_tls_config("crl_directory = \"" + dir + "/crl\"\n");
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  const client::ClientOptions options = IntermediateOslo(daemon, dir);
  std::unique_ptr<client::ExchangeClient> oslo;
  ASSERT_TRUE(client::ExchangeClient::Connect(options, &oslo).ok());
  Subscriber stream(oslo.get());
  ASSERT_FALSE(stream.WaitEnded(std::chrono::seconds(1))) << stream.status().error_message();

  Revoke(dir, "ca/intermediate");  // By the root.
  ASSERT_TRUE(stream.WaitEnded(std::chrono::seconds(5))) << daemon.Log();
  EXPECT_EQ(stream.status().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(
      stream.status().error_message().find("a CA certificate of the client's chain is revoked"), 0u)
      << stream.status().error_message();
}

// A CA added to the bundle (the file replaced by rename) is trusted by new connections without a
// restart, and each CA of the bundle has its own expiry gauge.
TEST(RevocationTest, ACaAddedToTheBundleIsTrustedWithoutARestartAndGauged) {
  TestDaemon daemon;
  const std::string dir = StateDir(daemon) + "/inter";
  std::filesystem::create_directories(dir);
  MakeIntermediatePki(dir);
  const std::string bundle = dir + "/bundle.pem";
  std::ofstream(bundle) << ReadFile(Pki().dir + "/ca.pem");
  daemon.set_client_ca(bundle);
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  const client::ClientOptions options = IntermediateOslo(daemon, dir);
  auto answer = [&options] {
    std::unique_ptr<client::ExchangeClient> oslo;
    EXPECT_TRUE(client::ExchangeClient::Connect(options, &oslo).ok());
    v1::MessageStatus status;
    return oslo->GetMessageStatus("m", &status).error_code();
  };
  const grpc::StatusCode before = answer();  // Refused at the handshake: never connected.
  EXPECT_TRUE(before == grpc::StatusCode::UNAVAILABLE ||
              before == grpc::StatusCode::DEADLINE_EXCEEDED)
      << before;
  const std::string root_series =
      "infoflyt_tls_client_ca_certificate_expiry_seconds{subject=\"CN=test root\"}";
  EXPECT_LT(MetricValue(daemon.Metrics(), root_series), 0);  // No such series yet.
  const double test_ca = MetricValue(
      daemon.Metrics(), "infoflyt_tls_client_ca_certificate_expiry_seconds{subject=\"" +
                            CommandOutput("openssl x509 -noout -subject -nameopt RFC2253 -in " +
                                          Pki().dir + "/ca.pem | sed 's/^subject=//'") +
                            "\"}");
  EXPECT_GT(test_ca, 86'400);

  std::ofstream(bundle + ".new") << ReadFile(Pki().dir + "/ca.pem") << ReadFile(dir + "/ca.pem");
  std::filesystem::rename(bundle + ".new", bundle);
  Eventually([&] { return answer() == grpc::StatusCode::NOT_FOUND; }, std::chrono::seconds(10));
  EXPECT_EQ(answer(), grpc::StatusCode::NOT_FOUND);  // Served: there is no message "m".
  const double root = MetricValue(daemon.Metrics(), root_series);
  EXPECT_GT(root, 29 * 86'400);
  EXPECT_LE(root, 30 * 86'400);
}

// tls.trust_domain_issuers: a CA of the bundle that is not listed may not name parties.
TEST(RevocationTest, OnlyTheListedIssuersMayNameParties) {
  TestDaemon daemon;
  const std::string dir = TrustTheIntermediatePki(&daemon);
  const std::string test_ca = CommandOutput("openssl x509 -noout -subject -nameopt RFC2253 -in " +
                                            Pki().dir + "/ca.pem | sed 's/^subject=//'");
  daemon.set_tls_config("trust_domain_issuers = [\"" + test_ca + "\"]\n");
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  v1::MessageStatus status;
  EXPECT_EQ(daemon.Client("police-oslo")->GetMessageStatus("m", &status).error_code(),
            grpc::StatusCode::NOT_FOUND);
  const client::ClientOptions options = IntermediateOslo(daemon, dir);
  std::unique_ptr<client::ExchangeClient> other;
  ASSERT_TRUE(client::ExchangeClient::Connect(options, &other).ok());
  const grpc::Status refused = other->GetMessageStatus("m", &status);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(refused.error_message(),
            "CA CN=test intermediate may not issue certificates of trust domain infoflyt.test "
            "(tls.trust_domain_issuers)");
  EXPECT_NE(daemon.Log().find("event=auth_refused reason=\"trust domain\""), std::string::npos);
}

TEST(RevocationTest, AFingerprintOnTheDenyListEndsTheStreamAfterSighupAndIsRefused) {
  TestDaemon daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  TwoStreams streams(daemon);
  ASSERT_FALSE(streams.oslo_stream.WaitEnded(std::chrono::seconds(1)));

  // The operator lists the certificate's fingerprint, as `openssl x509 -fingerprint` prints it.
  const std::string fingerprint = FingerprintOf(Pki().dir + "/parties/police-oslo.pem");
  std::string parties = ReadFile(daemon.parties_path());
  const std::string oslo = "kind = \"police\"\nid = \"oslo\"\n";
  ASSERT_NE(parties.find(oslo), std::string::npos);
  parties.replace(parties.find(oslo), oslo.size(),
                  oslo + "revoked_certificates = [\"" + fingerprint + "\"]\n");
  std::ofstream(daemon.parties_path(), std::ios::trunc) << parties;
  const auto denied_at = steady_clock::now();
  Reload(daemon);
  ASSERT_TRUE(streams.oslo_stream.WaitEnded(std::chrono::seconds(2))) << daemon.Log();
  std::cerr << "stream ended "
            << std::chrono::duration_cast<milliseconds>(steady_clock::now() - denied_at).count()
            << " ms after SIGHUP was sent\n";
  EXPECT_EQ(streams.oslo_stream.status().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(streams.oslo_stream.status().error_message().find("revoked in the parties registry"),
            std::string::npos)
      << streams.oslo_stream.status().error_message();
  ExpectStreamEndedLine(daemon, "denied fingerprint");
  // Refused on the old connection and on a new one; the other police district is not.
  v1::MessageStatus status;
  EXPECT_EQ(streams.oslo->GetMessageStatus("m", &status).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(PostAsNewClient(daemon, "police-oslo", "denied").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_FALSE(streams.bergen_stream.WaitEnded(std::chrono::seconds(0)));
  EXPECT_EQ(streams.bergen->GetMessageStatus("m", &status).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_GE(
      MetricValue(daemon.Metrics(), "infoflyt_auth_failures_total{reason=\"denied fingerprint\"}"),
      2);
  // A malformed entry is refused whole, keeping the running registry.
  std::ofstream(daemon.parties_path(), std::ios::app)
      << "\n[[party]]\nkind = \"pst\"\nid = \"x\"\nname = \"X\"\nrevoked_certificates = [\"ab\"]\n";
  daemon.Signal(SIGHUP);
  EXPECT_TRUE(Eventually([&] {
    return daemon.Log().find("revoked_certificates entries must be SHA-256 fingerprints") !=
           std::string::npos;
  })) << daemon.Log();
}

// An auditor's export is checked before each batch (500 records): one denied meanwhile gets no
// more of the log than what was already on its way.
TEST(RevocationTest, AnAuditorDeniedDuringAnExportGetsNoFurtherBatch) {
  TestDaemon daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  {
    Workers posters;  // 2,400 records (two per post): several batches.
    for (int w = 0; w < 4; ++w) {
      posters.Add([&, w] {
        auto prison = daemon.Client("correctional-oslo-fengsel");
        for (int i = 0; i < 300; ++i) {  // Bounded: the workers are joined, not stopped.
          v1::Receipt receipt;
          EXPECT_TRUE(
              prison
                  ->Post(ReleaseNotice("export-" + std::to_string(w) + "-" + std::to_string(i)),
                         &receipt)
                  .ok());
        }
      });
    }
  }
  const auto total = static_cast<size_t>(daemon.CountRows("disclosures"));
  ASSERT_GE(total, 2400u);
  std::string parties = ReadFile(daemon.parties_path());
  const std::string auditor = "kind = \"auditor\"\nid = \"datatilsynet\"\n";
  ASSERT_NE(parties.find(auditor), std::string::npos);
  parties.replace(parties.find(auditor), auditor.size(),
                  auditor + "revoked_certificates = [\"" +
                      FingerprintOf(Pki().dir + "/parties/auditor-datatilsynet.pem") + "\"]\n");
  auto client = daemon.Client("auditor-datatilsynet");
  grpc::ClientContext context;
  size_t received = 0;
  const grpc::Status status = client->ExportLog({}, &context, [&](const v1::LogEntry&) {
    if (received++ == 0) {  // The first batch is being sent: deny the auditor now.
      std::ofstream(daemon.parties_path(), std::ios::trunc) << parties;
      Reload(daemon);
    }
    return true;
  });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  // Whole batches only; how many were sent ahead depends on HTTP/2 flow control.
  EXPECT_EQ(received % 500, 0u) << received;
  EXPECT_LT(received, total);
  std::cerr << received << " of " << total << " records exported before the denial\n";
}

TEST(RevocationTest, RemovingAPartyEndsItsStreams) {
  TestDaemon daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  auto baerum = daemon.Client("municipality-3201");
  Subscriber stream(baerum.get());
  ASSERT_FALSE(stream.WaitEnded(std::chrono::seconds(1)));
  std::string parties = ReadFile(daemon.parties_path());
  const std::string entry = "[[party]]\nkind = \"municipality\"\nid = \"3201\"\n";
  const size_t at = parties.find(entry);
  ASSERT_NE(at, std::string::npos);
  parties.erase(at, parties.find("[[party]]", at + 1) - at);
  std::ofstream(daemon.parties_path(), std::ios::trunc) << parties;
  Reload(daemon);
  ASSERT_TRUE(stream.WaitEnded(std::chrono::seconds(2))) << daemon.Log();
  EXPECT_EQ(stream.status().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(stream.status().error_message(), "party municipality/3201 is not registered");
  ExpectStreamEndedLine(daemon, "party not registered");
}

// Publishes the CA copy's CRL again, due `seconds` from now.
void PublishCrl(const std::string& pki, int seconds) {
  ASSERT_EQ(std::system((INFOFLYT_SOURCE_DIR "/certs/make-dev-pki.sh -o " + pki + " crl " +
                         std::to_string(seconds) + " >/dev/null")
                            .c_str()),
            0);
}

// Waits until /healthz starts with `what`; returns its status.
int WaitForHealth(const TestDaemon& daemon, const std::string& what, std::string* body) {
  int status = 0;
  Eventually(
      [&] {
        *body = daemon.Healthz(&status);
        return body->starts_with(what);
      },
      std::chrono::seconds(10));
  return status;
}

TEST(RevocationTest, AStaleCrlIsAWarningAndItsRevocationsStillApply) {
  TestDaemon daemon;
  const std::string pki = CopyOfTheCa(StateDir(daemon));
  Revoke(pki, "correctional/ila-fengsel");
  PublishCrl(pki, 2);
  daemon.set_tls_config("crl_directory = \"" + pki + "/crl\"\n");
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  std::string body;
  int status = WaitForHealth(daemon, "ok\nwarning crl:", &body);
  EXPECT_EQ(status, 200) << body;
  EXPECT_NE(body.find("stale CRL, its revocations still apply"), std::string::npos) << body;
  EXPECT_LE(MetricValue(daemon.Metrics(), "infoflyt_tls_crl_next_update_seconds"), 0);
  EXPECT_NE(daemon.Log().find("tls: stale CRL"), std::string::npos) << daemon.Log();
  // Clients of the CA are still served, but not the revoked one.
  EXPECT_TRUE(PostAsNewClient(daemon, "correctional-oslo-fengsel", "stale-ok").ok());
  const grpc::Status revoked = PostAsNewClient(daemon, "correctional-ila-fengsel", "stale-revoked");
  EXPECT_TRUE(revoked.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
              revoked.error_code() == grpc::StatusCode::UNAVAILABLE)
      << revoked.error_message();
  // A fresh CRL clears the warning.
  PublishCrl(pki, 3600);
  Eventually(
      [&] {
        body = daemon.Healthz(&status);
        return body == "ok\n";
      },
      std::chrono::seconds(10));
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, "ok\n");
  const double next_update = MetricValue(daemon.Metrics(), "infoflyt_tls_crl_next_update_seconds");
  EXPECT_GT(next_update, 3000);
  EXPECT_LE(next_update, 3600);
}

// The moment a CRL passes its nextUpdate, before the daemon next reads its files: its CA's
// clients are still served at the handshake, and its revocations still apply.
TEST(RevocationTest, ACrlGoneStaleBetweenChecksStillServesTheCaClients) {
  TestDaemon daemon;
  const std::string pki = CopyOfTheCa(StateDir(daemon));
  Revoke(pki, "correctional/ila-fengsel");
  PublishCrl(pki, 3);
  daemon.set_tls_config("crl_directory = \"" + pki + "/crl\"\nrefresh_interval = \"1h\"\n");
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  EXPECT_TRUE(PostAsNewClient(daemon, "correctional-oslo-fengsel", "fresh").ok());
  std::this_thread::sleep_for(std::chrono::seconds(4));
  const grpc::Status stale = PostAsNewClient(daemon, "correctional-oslo-fengsel", "stale");
  EXPECT_TRUE(stale.ok()) << stale.error_message();
  EXPECT_EQ(PostAsNewClient(daemon, "correctional-ila-fengsel", "stale-revoked").error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(daemon.Log().find("reason=\"stale CRL\""), std::string::npos) << daemon.Log();
}

TEST(RevocationTest, RequireFreshCrlRefusesClientsWhileTheCrlIsStale) {
  TestDaemon daemon;
  const std::string pki = CopyOfTheCa(StateDir(daemon));
  daemon.set_tls_config("crl_directory = \"" + pki + "/crl\"\nrequire_fresh_crl = true\n");
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  auto police = daemon.Client("police-oslo");
  Subscriber stream(police.get());
  EXPECT_TRUE(PostAsNewClient(daemon, "correctional-oslo-fengsel", "fresh").ok());
  PublishCrl(pki, 2);
  std::string body;
  const int status = WaitForHealth(daemon, "failing\nfailing crl:", &body);
  EXPECT_EQ(status, 503) << body;
  EXPECT_NE(body.find("refusing the clients of these CAs (tls.require_fresh_crl)"),
            std::string::npos)
      << body;
  const grpc::Status refused = PostAsNewClient(daemon, "correctional-oslo-fengsel", "stale");
  EXPECT_TRUE(refused.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
              refused.error_code() == grpc::StatusCode::UNAVAILABLE)
      << refused.error_message();
  ASSERT_TRUE(stream.WaitEnded(std::chrono::seconds(5)));
  EXPECT_EQ(stream.status().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  ExpectStreamEndedLine(daemon, "stale CRL");
  EXPECT_EQ(daemon.CountRows("messages"), 1);
}

}  // namespace
}  // namespace infoflyt::testing
