// Who may talk to infoflytd at all: only TLS >= 1.2, only with a client certificate from the
// configured CA, only registered parties. Against the real binary on loopback.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <thread>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "integration/shared_daemon_test.h"
#include "test_util.h"
#include "unit/test_envelopes.h"

namespace infoflyt::testing {
namespace {

class TransportSecurityTest : public SharedDaemonTest {
 protected:
  // Posts a valid release notice over `channel`; returns the call's status.
  static grpc::Status PostOver(const std::shared_ptr<grpc::Channel>& channel) {
    auto stub = v1::Exchange::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::PostRequest request;
    *request.mutable_envelope() = ReleaseNotice("transport-test");
    v1::Receipt receipt;
    return stub->Post(&context, request, &receipt);
  }
  static std::shared_ptr<grpc::Channel> TlsChannel(const std::string& cert, const std::string& key,
                                                   const std::string& ca) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = ReadFile(ca);
    if (!cert.empty()) tls.pem_cert_chain = ReadFile(cert);
    if (!key.empty()) tls.pem_private_key = ReadFile(key);
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    return grpc::CreateCustomChannel(daemon_->address(), grpc::SslCredentials(tls), args);
  }
  // Runs openssl s_client with `flags` and a registered client certificate; returns its output
  // and sets `ok` to whether the handshake succeeded (the exit code is no guide: the server
  // hangs up on a client that then speaks no HTTP/2).
  static std::string SClient(const std::string& flags, bool* ok) {
    const std::string party = Pki().dir + "/parties/police-oslo";
    const std::string cmd = "openssl s_client -connect " + daemon_->address() + " -CAfile " +
                            Pki().dir + "/ca.pem -cert " + party + ".pem -key " + party +
                            ".key -verify_return_error -brief " + flags + " </dev/null 2>&1";
    FILE* pipe = popen(cmd.c_str(), "r");
    std::string out;
    char buf[1024];
    for (size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
    pclose(pipe);
    *ok = out.find("CONNECTION ESTABLISHED") != std::string::npos;
    return out;
  }
};

TEST_F(TransportSecurityTest, PlaintextClientIsRefused) {
  const grpc::Status s =
      PostOver(grpc::CreateChannel(daemon_->address(), grpc::InsecureChannelCredentials()));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(daemon_->CountRows("messages"), 0);
}

// Refusals inside the TLS handshake are security events too: a structured line naming the
// reason (at most one a minute per reason) and, if the client sent one, the certificate
// (`cert_pem`'s subject and fingerprint), and the counter, which the refusal `post` raises.
void ExpectHandshakeRefusal(const TestDaemon& daemon, const std::string& reason,
                            const std::function<void()>& post, const std::string& cert_pem = "") {
  const std::string series = "infoflyt_auth_failures_total{reason=\"" + reason + "\"}";
  const double before = std::max(0.0, MetricValue(daemon.Metrics(), series));
  post();
  double after = before;
  Eventually([&] {
    after = MetricValue(daemon.Metrics(), series);
    return after > before;
  });
  EXPECT_EQ(after, before + 1) << reason;
  std::vector<std::string> parts = {
      "event=auth_refused reason=" +
      (reason.find(' ') == std::string::npos ? reason : "\"" + reason + "\"") +
      " rpc=\"(TLS handshake)\""};
  if (!cert_pem.empty()) {
    parts.push_back(" fingerprint=" + FingerprintHex(cert_pem) + " ");
    parts.push_back(" subject=\"" +
                    CommandOutput("openssl x509 -noout -subject -nameopt RFC2253 -in " + cert_pem +
                                  " | sed 's/^subject=//'") +
                    "\" ");
  }
  EXPECT_NE(LineWith(daemon.Log(), parts), "") << parts.back() << "\n" << daemon.Log();
}

TEST_F(TransportSecurityTest, ClientWithoutCertificateIsRefused) {
  ExpectHandshakeRefusal(*daemon_, "no client certificate", [] {
    const grpc::Status s = PostOver(TlsChannel("", "", Pki().dir + "/ca.pem"));
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  });
  EXPECT_EQ(daemon_->CountRows("messages"), 0);
}

TEST_F(TransportSecurityTest, ClientCertificateFromAnotherCaIsRefused) {
  const std::string rogue = Pki().rogue_dir + "/parties/correctional-oslo-fengsel";
  ExpectHandshakeRefusal(
      *daemon_, "unknown CA",
      [&] {
        const grpc::Status s =
            PostOver(TlsChannel(rogue + ".pem", rogue + ".key", Pki().dir + "/ca.pem"));
        EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
      },
      rogue + ".pem");
  EXPECT_EQ(daemon_->CountRows("messages"), 0);
}

TEST_F(TransportSecurityTest, AnExpiredClientCertificateIsRefusedAtTheHandshake) {
  const std::string expired = Pki().dir + "/odd/expired";
  ExpectHandshakeRefusal(
      *daemon_, "expired",
      [&] {
        const grpc::Status s =
            PostOver(TlsChannel(expired + ".pem", expired + ".key", Pki().dir + "/ca.pem"));
        EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
      },
      expired + ".pem");
  EXPECT_NE(daemon_->Log().find("detail=\"certificate has expired\""), std::string::npos);
  EXPECT_EQ(daemon_->CountRows("messages"), 0);
}

TEST_F(TransportSecurityTest, ClientRefusesAServerFromAnotherCa) {
  const std::string party = Pki().dir + "/parties/correctional-oslo-fengsel";
  const grpc::Status s =
      PostOver(TlsChannel(party + ".pem", party + ".key", Pki().rogue_dir + "/ca.pem"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

TEST_F(TransportSecurityTest, UnregisteredPartyIsDenied) {
  const std::string ghost = Pki().dir + "/parties/police-ghost";
  const grpc::Status s =
      PostOver(TlsChannel(ghost + ".pem", ghost + ".key", Pki().dir + "/ca.pem"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(), "party police/ghost is not registered");
  EXPECT_EQ(daemon_->CountRows("messages"), 0);
  EXPECT_NE(LineWith(daemon_->Log(), {"event=auth_refused reason=\"party not registered\" "
                                      "rpc=Exchange/Post peer=ipv4:127.0.0.1:",
                                      "spiffe_id=spiffe://infoflyt.test/police/ghost"}),
            "")
      << daemon_->Log();
}

// A party's certificate from the right CA naming a party of another trust domain: refused, with
// its security event.
TEST_F(TransportSecurityTest, ASpiffeIdOfAnotherTrustDomainIsDenied) {
  const std::string other = Pki().dir + "/odd/other-domain";
  const grpc::Status s =
      PostOver(TlsChannel(other + ".pem", other + ".key", Pki().dir + "/ca.pem"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(),
            "SPIFFE ID spiffe://other.test/police/oslo is not in trust domain infoflyt.test");
  EXPECT_NE(LineWith(daemon_->Log(), {"event=auth_refused reason=\"trust domain\" "
                                      "rpc=Exchange/Post peer=ipv4:127.0.0.1:",
                                      "spiffe_id=spiffe://other.test/police/oslo"}),
            "")
      << daemon_->Log();
  EXPECT_EQ(daemon_->CountRows("messages"), 0);
}

// A client certificate from the right CA whose SPIFFE ID names no party kind: authenticated by
// TLS, refused by authorization.
TEST_F(TransportSecurityTest, AClientCertificateOfNoPartyKindIsDenied) {
  const std::string impostor = Pki().dir + "/parties/daemon-impostor";
  const grpc::Status s =
      PostOver(TlsChannel(impostor + ".pem", impostor + ".key", Pki().dir + "/ca.pem"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_EQ(s.error_message(),
            "SPIFFE ID spiffe://infoflyt.test/daemon/impostor is not "
            "spiffe://<trust-domain>/<kind>/<id>");
  EXPECT_EQ(daemon_->CountRows("messages"), 0);
}

// Certificates from the right CA naming a registered party (police/oslo) that are still not a
// party's: each is refused in the TLS handshake, so that no call at all (health included) is
// served over it, with one structured security-event line naming why and the certificate, and
// counted by reason.
TEST_F(TransportSecurityTest, CertificatesThatAreNoPartysAreRefusedNamingWhy) {
  struct Case {
    const char* name;
    const char* why;
    const char* reason;
  };
  for (const Case& c :
       {Case{"ca-as-client", "client certificate is a CA certificate (basicConstraints CA:TRUE)",
             "CA certificate used as client"},
        Case{"no-client-auth", "client certificate lacks the clientAuth extended key usage",
             "no clientAuth"},
        Case{"two-uris", "client certificate must have exactly one URI SAN, not 2",
             "not exactly one URI SAN"}}) {
    const std::string odd = Pki().dir + "/odd/" + c.name;
    auto channel = TlsChannel(odd + ".pem", odd + ".key", Pki().dir + "/ca.pem");
    ExpectHandshakeRefusal(
        *daemon_, c.reason,
        [&] {
          const grpc::Status s = PostOver(channel);
          EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE)
              << c.name << ": " << s.error_message();
        },
        odd + ".pem");
    EXPECT_NE(LineWith(daemon_->Log(), {"reason=\"" + std::string(c.reason) + "\"",
                                        " detail=\"" + std::string(c.why) + "\""}),
              "")
        << c.name << "\n"
        << daemon_->Log();
    auto health = grpc::health::v1::Health::NewStub(channel);
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckResponse response;
    EXPECT_EQ(health->Check(&context, {}, &response).error_code(), grpc::StatusCode::UNAVAILABLE)
        << c.name;
  }
  EXPECT_EQ(daemon_->CountRows("messages"), 0);
}

TEST_F(TransportSecurityTest, TheDaemonsOwnCertificateCannotActAsAClient) {
  // Issued for serverAuth only (certs/make-dev-pki.sh): the handshake refuses it as a client's,
  // before its SPIFFE ID (daemon/infoflytd, no party kind) is even looked at.
  const std::string server = Pki().dir + "/server";
  ExpectHandshakeRefusal(
      *daemon_, "no clientAuth",
      [&] {
        const grpc::Status s =
            PostOver(TlsChannel(server + ".pem", server + ".key", Pki().dir + "/ca.pem"));
        EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
      },
      server + ".pem");
  EXPECT_NE(daemon_->Log().find("detail=\"unsuitable certificate purpose\""), std::string::npos);
  EXPECT_EQ(daemon_->CountRows("messages"), 0);
}

TEST_F(TransportSecurityTest, NegotiatesTls13AndAcceptsTls12ButNothingOlder) {
  bool ok = false;
  std::string out = SClient("", &ok);
  EXPECT_TRUE(ok) << out;
  EXPECT_NE(out.find("Protocol version: TLSv1.3"), std::string::npos) << out;
  out = SClient("-tls1_2", &ok);
  EXPECT_TRUE(ok) << out;
  EXPECT_NE(out.find("Protocol version: TLSv1.2"), std::string::npos) << out;
  out = SClient("-tls1_1 -cipher DEFAULT@SECLEVEL=0", &ok);
  EXPECT_FALSE(ok) << out;
  // TLS 1.2 only with AEAD suites: not CBC with SHA-1 or SHA-256 MACs.
  for (const char* cbc : {"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384", "AES128-SHA"}) {
    out = SClient(std::string("-tls1_2 -cipher ") + cbc, &ok);
    EXPECT_FALSE(ok) << cbc << "\n" << out;
  }
  out = SClient("-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256", &ok);
  EXPECT_TRUE(ok) << out;
}

TEST_F(TransportSecurityTest, HealthAndReflectionAnswerRegisteredParties) {
  const std::string party = Pki().dir + "/parties/operator-ops";
  auto channel = TlsChannel(party + ".pem", party + ".key", Pki().dir + "/ca.pem");
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(&context, request, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  auto reflection = grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  grpc::ClientContext rcontext;
  auto stream = reflection->ServerReflectionInfo(&rcontext);
  grpc::reflection::v1alpha::ServerReflectionRequest list;
  list.set_list_services("");
  ASSERT_TRUE(stream->Write(list));
  stream->WritesDone();
  grpc::reflection::v1alpha::ServerReflectionResponse answer;
  ASSERT_TRUE(stream->Read(&answer));
  std::vector<std::string> services;
  for (const auto& s : answer.list_services_response().service()) services.push_back(s.name());
  EXPECT_NE(std::find(services.begin(), services.end(), "infoflyt.v1.Exchange"), services.end());
  EXPECT_NE(std::find(services.begin(), services.end(), "grpc.health.v1.Health"), services.end());
}

}  // namespace
}  // namespace infoflyt::testing
