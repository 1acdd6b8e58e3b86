// Keeps the copy of the client trust used at the handshake: the client CA bundle (read by
// gRPC's certificate file watcher, and by the daemon's chain verifier, client_chain_verifier.h)
// and the CRLs the verifier enforces there. Checks the operator's files every interval, and
// hands the CRLs, parsed, to the daemon for the checks after the handshake.
//
// Why a copy: the handshake's verifier and gRPC's file watcher must see one set of files, and
// the CRLs the operator's directory holds only as what can be parsed and verified. The
// published bundle is the operator's followed by one comment line naming the published CRLs'
// digest (PEM readers skip text outside BEGIN/END blocks), written by rename, so that it
// changes, and is logged, whenever what the handshake enforces does.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "base/periodic_thread.h"
#include "base/status.h"
#include "server/revocation_list.h"

namespace infoflyt {

struct TrustPublisherOptions {
  std::string client_ca;       // The operator's bundle (tls.client_ca).
  std::string crl_directory;   // The operator's CRLs (tls.crl_directory); may be empty.
  std::string published_ca;    // Where gRPC reads the bundle.
  std::string published_crls;  // Where the handshake's verifier reads the CRLs.
  std::chrono::seconds interval{60};
};

class TrustPublisher {
 public:
  // `published`: what the handshake is to enforce changed (and at the first check).
  using AfterCheck =
      std::function<void(const std::shared_ptr<const RevocationList>& crls, bool published)>;

  // Publishes now, then checks every `interval` on a thread of its own, calling `after_check`
  // (if set) after each check on that thread with the CRLs now in force (the same object while
  // they do not change; never null). FAILED_PRECONDITION if a file cannot be read or written at
  // start; later failures are logged and the last copy kept.
  static Status Start(TrustPublisherOptions options, AfterCheck after_check,
                      std::unique_ptr<TrustPublisher>* out);
  ~TrustPublisher() = default;  // Stops the thread.
  TrustPublisher(const TrustPublisher&) = delete;
  TrustPublisher& operator=(const TrustPublisher&) = delete;

 private:
  explicit TrustPublisher(TrustPublisherOptions options);
  // Reads the operator's files and writes the copies if what the handshake is to use changed
  // (`published` says whether it did).
  Status PublishIfChanged(bool* published);
  // Makes the published CRL directory hold exactly `files` (name, contents), unless it already
  // does; returns their digest.
  Status PublishCrls(const std::vector<std::pair<std::string, std::string>>& files,
                     std::string* digest);
  void Check();

  const TrustPublisherOptions options_;
  AfterCheck after_check_;
  std::string last_;            // The bundle as last written.
  std::string last_crls_;       // The operator's CRL files as last read (names and digests).
  std::string published_crls_;  // Digest of what the published CRL directory holds.
  std::shared_ptr<const RevocationList> crls_ = std::make_shared<RevocationList>();
  std::set<std::string> ignored_;           // Files of the CRL directory that hold no usable CRL.
  std::unique_ptr<PeriodicThread> thread_;  // Last: stopped first.
};

}  // namespace infoflyt
