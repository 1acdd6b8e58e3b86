// What an operator does to the test PKI while a daemon runs (revoke, look up a fingerprint),
// and a post over a connection of its own, for the tests of trust that changes.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "integration/test_daemon.h"
#include "test_util.h"
#include "unit/test_envelopes.h"

namespace infoflyt::testing {

// A post by `party` over a new connection.
inline grpc::Status PostAsNewClient(const TestDaemon& daemon, const std::string& party,
                                    const std::string& key) {
  std::unique_ptr<client::ExchangeClient> client;
  client::ClientOptions options = daemon.Options(party);
  options.wait_for_ready = false;
  options.timeout = std::chrono::seconds(5);
  if (grpc::Status s = client::ExchangeClient::Connect(options, &client); !s.ok()) return s;
  v1::Receipt receipt;
  return client->Post(ReleaseNotice(key), &receipt);
}

// A copy of the test CA and its database in `dir`, so that revoking there leaves the other
// tests' PKI alone. Its CRL directory is `<returned>/crl`.
inline std::string CopyOfTheCa(const std::string& dir) {
  std::string copy = dir + "/pki";
  EXPECT_EQ(std::system(("cp -r " + Pki().dir + " " + copy).c_str()), 0);
  return copy;
}

// Revokes `party` ("<kind>/<id>") in the CA copy `pki` and publishes its CRL.
inline void Revoke(const std::string& pki, const std::string& party) {
  ASSERT_EQ(std::system((INFOFLYT_SOURCE_DIR "/certs/make-dev-pki.sh -o " + pki + " revoke " +
                         party + " >/dev/null")
                            .c_str()),
            0);
}

// The directory of the daemon's own files (its state directory).
inline std::string StateDir(const TestDaemon& daemon) {
  return daemon.server_cert_path().substr(0, daemon.server_cert_path().rfind('/'));
}

}  // namespace infoflyt::testing
