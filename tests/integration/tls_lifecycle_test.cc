// Trust that changes while infoflytd runs, against the real daemon over mTLS: a renewed server
// certificate is served to new connections without a restart while open streams keep flowing;
// a revoked client certificate is refused at the handshake, also when the CRL is published
// while the daemon runs.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "integration/pki_actions.h"
#include "integration/subscriber.h"
#include "integration/test_daemon.h"
#include "test_util.h"
#include "unit/test_envelopes.h"

namespace infoflyt::testing {
namespace {

// The fingerprint of the certificate the daemon presents to a new connection ("" if the
// handshake fails).
std::string ServedFingerprint(const TestDaemon& daemon) {
  const std::string party = Pki().dir + "/parties/police-oslo";
  return CommandOutput("openssl s_client -connect " + daemon.address() + " -CAfile " + Pki().dir +
                       "/ca.pem -cert " + party + ".pem -key " + party +
                       ".key </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 "
                       "2>/dev/null | sed 's/.*=//'");
}

// The server certificate's remaining days, as the daemon's gauge says (-1 if it is missing).
double ServerCertificateDaysLeft(const TestDaemon& daemon) {
  const double seconds =
      MetricValue(daemon.Metrics(), "infoflyt_tls_server_certificate_expiry_seconds");
  return seconds < 0 ? -1 : seconds / 86'400;
}

// Issues a new server certificate (10 days) and key from the test CA into `dir`, as a renewal
// would.
void IssueServerCertificate(const std::string& dir) {
  const std::string ext = dir + "/server.ext";
  std::ofstream(ext) << "basicConstraints=critical,CA:FALSE\n"
                        "keyUsage=critical,digitalSignature\n"
                        "extendedKeyUsage=serverAuth\n"
                        "subjectAltName=DNS:localhost,IP:127.0.0.1,"
                        "URI:spiffe://infoflyt.test/daemon/infoflytd\n";
  const std::string ca = Pki().dir + "/ca";
  ASSERT_EQ(std::system(("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " +
                         dir + "/renewed.key 2>/dev/null && openssl req -new -key " + dir +
                         "/renewed.key -subj '/O=infoflyt development/CN=infoflytd renewed' -out " +
                         dir + "/renewed.csr && openssl x509 -req -in " + dir +
                         "/renewed.csr -CA " + ca + ".pem -CAkey " + ca +
                         ".key -set_serial 0x$(openssl rand -hex 16) -sha256 -days 10 -extfile " +
                         ext + " -out " + dir + "/renewed.pem 2>/dev/null")
                            .c_str()),
            0);
}

TEST(TlsLifecycleTest, ARenewedServerCertificateIsServedWithoutARestartOrADroppedStream) {
  TestDaemon daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  const std::string first = FingerprintOf(daemon.server_cert_path());
  ASSERT_EQ(ServedFingerprint(daemon), first);
  // The test PKI's certificates are good for 825 days.
  EXPECT_NEAR(ServerCertificateDaysLeft(daemon), 825, 1.01);

  auto police = daemon.Client("police-oslo");
  Subscriber stream(police.get());
  auto prison = daemon.Client("correctional-oslo-fengsel");
  v1::Receipt before;
  ASSERT_TRUE(prison->Post(ReleaseNotice("before-renewal"), &before).ok());
  ASSERT_TRUE(stream.WaitForMessage(before.message_id()));

  // The operator renews: each file replaced by a rename, the key first.
  const std::string dir = StateDir(daemon);
  IssueServerCertificate(dir);
  const std::string renewed = FingerprintOf(dir + "/renewed.pem");
  ASSERT_NE(renewed, first);
  ASSERT_EQ(std::rename((dir + "/renewed.key").c_str(), daemon.server_key_path().c_str()), 0);
  ASSERT_EQ(std::rename((dir + "/renewed.pem").c_str(), daemon.server_cert_path().c_str()), 0);

  // Within the refresh interval (1 s here) and a little: new connections get the new one.
  std::string served;
  Eventually(
      [&] {
        served = ServedFingerprint(daemon);
        return served == renewed;
      },
      std::chrono::seconds(10));
  EXPECT_EQ(served, renewed) << daemon.Log();
  // The gauge follows the file, and ten days left is warned of.
  Eventually([&] { return ServerCertificateDaysLeft(daemon) <= 11; });
  EXPECT_NEAR(ServerCertificateDaysLeft(daemon), 10, 0.01);
  // Logged by the check after the one that set the gauge at the latest.
  EXPECT_TRUE(Eventually([&] {
    return daemon.Log().find(" hours: renew it") != std::string::npos;
  })) << daemon.Log();

  // The stream opened before the renewal is still the same stream, and still flowing.
  v1::Receipt after;
  ASSERT_TRUE(prison->Post(ReleaseNotice("after-renewal"), &after).ok());
  EXPECT_TRUE(stream.WaitForMessage(after.message_id()));
  EXPECT_FALSE(stream.WaitEnded(std::chrono::seconds(0))) << stream.status().error_message();
  // And a client connecting now is served over the renewed certificate.
  v1::Receipt fresh;
  EXPECT_TRUE(daemon.Client("correctional-ila-fengsel")->Post(ReleaseNotice("fresh"), &fresh).ok());
}

// certs/make-dev-pki.sh renew-server: a new key and certificate in place (each by a rename, the
// key first), from the same CA, with the names the PKI was made with.
TEST(TlsLifecycleTest, TheDevPkiRenewsTheServerCertificateInPlace) {
  TestDaemon daemon;  // For its directory and the identity-number guard.
  const std::string pki = CopyOfTheCa(StateDir(daemon));
  const std::string before = FingerprintOf(pki + "/server.pem");
  ASSERT_EQ(std::system((INFOFLYT_SOURCE_DIR "/certs/make-dev-pki.sh -o " + pki +
                         " renew-server >/dev/null")
                            .c_str()),
            0);
  EXPECT_NE(FingerprintOf(pki + "/server.pem"), before);
  EXPECT_EQ(CommandOutput("openssl verify -CAfile " + pki + "/ca.pem " + pki + "/server.pem"),
            pki + "/server.pem: OK");
  EXPECT_EQ(CommandOutput("openssl pkey -in " + pki + "/server.key -pubout"),
            CommandOutput("openssl x509 -noout -pubkey -in " + pki + "/server.pem"));
  EXPECT_NE(CommandOutput("openssl x509 -noout -ext subjectAltName -in " + pki + "/server.pem")
                .find("URI:spiffe://infoflyt.test/daemon/infoflytd"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(pki + "/.renewed.key"));
}

TEST(TlsLifecycleTest, ARevokedClientCertificateIsRefusedAtTheHandshake) {
  TestDaemon daemon;
  const std::string pki = CopyOfTheCa(StateDir(daemon));
  Revoke(pki, "correctional/ila-fengsel");
  daemon.set_tls_config("crl_directory = \"" + pki + "/crl\"\n");
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  const grpc::Status refused = PostAsNewClient(daemon, "correctional-ila-fengsel", "revoked");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << refused.error_message();
  EXPECT_EQ(daemon.CountRows("messages"), 0);
  // Refused inside the handshake, and still a security event naming the certificate, counted.
  const std::string fingerprint =
      "fingerprint=" + FingerprintHex(Pki().dir + "/parties/correctional-ila-fengsel.pem") + " ";
  EXPECT_TRUE(Eventually([&] {
    return !LineWith(daemon.Log(), {"event=auth_refused reason=revoked rpc=\"(TLS handshake)\" ",
                                    fingerprint, "detail=\"certificate revoked\""})
                .empty();
  })) << daemon.Log();
  EXPECT_EQ(MetricValue(daemon.Metrics(), "infoflyt_auth_failures_total{reason=\"revoked\"}"), 1);
  const grpc::Status other = PostAsNewClient(daemon, "correctional-oslo-fengsel", "not-revoked");
  EXPECT_TRUE(other.ok()) << other.error_message();

  // Revoked while the daemon runs: calls are refused once the daemon re-reads the CRL (within a
  // refresh interval), and new connections at the handshake once gRPC re-reads the files it
  // publishes (within the next).
  Revoke(pki, "correctional/oslo-fengsel");
  const auto revoked_at = std::chrono::steady_clock::now();
  grpc::Status later;
  for (int i = 0; i < 50; ++i) {
    later = PostAsNewClient(daemon, "correctional-oslo-fengsel", "after-" + std::to_string(i));
    if (later.error_code() == grpc::StatusCode::UNAVAILABLE) break;
    if (!later.ok()) {
      EXPECT_EQ(later.error_code(), grpc::StatusCode::UNAUTHENTICATED) << later.error_message();
      EXPECT_EQ(later.error_message().find("client certificate is revoked (CRL "), 0u)
          << later.error_message();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(later.error_code(), grpc::StatusCode::UNAVAILABLE) << daemon.Log();
  std::cerr << "refused "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - revoked_at)
                   .count()
            << " ms after the CRL was published (refresh interval 1 s)\n";
  EXPECT_NE(daemon.Log().find("tls: client CAs or CRLs changed"), std::string::npos);
}

// Every connection is renewed after server.max_connection_age (plus its grace), streams
// included, so that it re-handshakes against the trust of the day; clients reconnect and resume.
TEST(TlsLifecycleTest, ConnectionsEndAfterTheirMaximumAgeAndClientsResume) {
  TestDaemon daemon;
  daemon.set_server_config("max_connection_age = \"1s\"\nmax_connection_age_grace = \"1s\"\n");
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  auto police = daemon.Client("police-oslo");
  const auto opened = std::chrono::steady_clock::now();
  Subscriber old_stream(police.get());
  ASSERT_TRUE(old_stream.WaitEnded(std::chrono::seconds(15)));
  const auto lasted = std::chrono::steady_clock::now() - opened;
  EXPECT_GE(lasted, std::chrono::milliseconds(800));  // Age 1 s, less gRPC's jitter.
  EXPECT_EQ(old_stream.status().error_code(), grpc::StatusCode::UNAVAILABLE)
      << old_stream.status().error_message();
  // The same client reconnects; a new stream resumes and gets what is posted now.
  Subscriber new_stream(police.get());
  v1::Receipt receipt;
  ASSERT_TRUE(
      daemon.Client("correctional-oslo-fengsel")->Post(ReleaseNotice("aged"), &receipt).ok());
  EXPECT_TRUE(new_stream.WaitForMessage(receipt.message_id()));
}

}  // namespace
}  // namespace infoflyt::testing
