// The client certificates that the client CAs' CRLs revoke, for the checks OpenSSL's handshake
// cannot make: calls on connections opened before a CRL arrived, and open Subscribe streams.
// Immutable once loaded; the daemon loads a new one whenever the CRL directory changes.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "server/peer_certificate.h"

namespace infoflyt {

inline constexpr const char* kReasonRevoked = "revoked";
inline constexpr const char* kReasonStaleCrl = "stale CRL";

class RevocationList {
 public:
  struct Crl {
    std::string file;               // Name within the directory, e.g. "1a2b3c4d.r0".
    std::string issuer;             // RFC 2253.
    int64_t next_update = 0;        // Unix seconds; 0 if the CRL names none.
    std::set<std::string> serials;  // Upper-case hex, as PeerCertificate::serial.
  };

  // A file of the CRL directory: its name and contents (PEM; one or more CRLs).
  using File = std::pair<std::string, std::string>;
  struct Ignored {
    std::string file;
    std::string why;
    bool holds_crl;  // False: nothing OpenSSL could use either.
  };

  // Every CRL of `files`, unless its issuer is a CA of `ca_bundle` (PEM) whose key does not
  // verify it. The files holding such CRLs or none are named in `ignored`.
  static RevocationList Parse(const std::vector<File>& files, const std::string& ca_bundle,
                              std::vector<Ignored>* ignored);

  // UNAUTHENTICATED (`reason` kReasonRevoked) if a CRL of the certificate's issuer lists its
  // serial, or one lists a CA certificate of its chain. With `require_fresh`, also
  // (kReasonStaleCrl) unless a CRL of its issuer is current at `now` (Unix seconds).
  Status Check(const PeerCertificate& cert, int64_t now, bool require_fresh,
               std::string* reason) const;

  // The CRLs past their nextUpdate at `now`.
  std::vector<const Crl*> Stale(int64_t now) const;
  const std::vector<Crl>& crls() const { return crls_; }

 private:
  std::vector<Crl> crls_;
};

}  // namespace infoflyt
