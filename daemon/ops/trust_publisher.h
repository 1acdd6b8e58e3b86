// Keeps a copy of the client CA bundle for gRPC's certificate file watcher that also changes
// whenever a CRL does, so that a new or updated CRL takes effect without a restart.
//
// Why: gRPC 1.51 rebuilds its TLS server context (and with it OpenSSL's certificate store,
// which caches every CRL it has loaded) only when the watched key, certificate or CA files
// change; a CRL replaced in crl_directory would otherwise be ignored until the daemon
// restarts. The copy is the operator's bundle followed by one comment line naming the CRLs'
// digest (PEM readers skip text outside BEGIN/END blocks), written by rename.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/status.h"

namespace infoflyt {

class TrustPublisher {
 public:
  // Publishes `client_ca` (plus the state of `crl_directory`, if set) to `published` now, then
  // checks both every `interval` on a thread of its own, calling `after_check` (if set) after
  // each check, on that thread. FAILED_PRECONDITION if a file cannot be read or written at
  // start; later failures are logged and the last copy kept.
  static Status Start(std::string client_ca, std::string crl_directory, std::string published,
                      std::chrono::seconds interval, std::function<void()> after_check,
                      std::unique_ptr<TrustPublisher>* out);
  ~TrustPublisher();  // Stops the thread.
  TrustPublisher(const TrustPublisher&) = delete;
  TrustPublisher& operator=(const TrustPublisher&) = delete;

 private:
  TrustPublisher(std::string client_ca, std::string crl_directory, std::string published,
                 std::chrono::seconds interval);
  // Writes the copy if the bundle or a CRL changed since the last time.
  Status PublishIfChanged();
  void Run();

  const std::string client_ca_;
  const std::string crl_directory_;
  const std::string published_;
  const std::chrono::seconds interval_;
  std::function<void()> after_check_;
  std::string last_;  // What was last written.
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace infoflyt
