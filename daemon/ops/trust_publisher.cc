#include "ops/trust_publisher.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "base/crypto.h"
#include "base/files.h"
#include "base/log.h"

namespace infoflyt {
namespace {

namespace fs = std::filesystem;

// A digest of every file in `dir` (names and contents, in name order).
Status CrlDigest(const std::string& dir, std::string* out) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  if (ec) return {Code::kFailedPrecondition, "cannot list tls.crl_directory " + dir};
  std::sort(files.begin(), files.end());
  std::string all;
  for (const fs::path& file : files) {
    std::string bytes;
    if (!ReadFile(file.string(), &bytes).ok()) continue;  // Replaced meanwhile: seen next time.
    all += file.filename().string() + '\0' + Sha256(bytes);
  }
  *out = ToHex(Sha256(all));
  return Status::Ok();
}

}  // namespace

TrustPublisher::TrustPublisher(std::string client_ca, std::string crl_directory,
                               std::string published, std::chrono::seconds interval)
    : client_ca_(std::move(client_ca)),
      crl_directory_(std::move(crl_directory)),
      published_(std::move(published)),
      interval_(interval) {}

Status TrustPublisher::Start(std::string client_ca, std::string crl_directory,
                             std::string published, std::chrono::seconds interval,
                             std::function<void()> after_check,
                             std::unique_ptr<TrustPublisher>* out) {
  std::unique_ptr<TrustPublisher> p(new TrustPublisher(
      std::move(client_ca), std::move(crl_directory), std::move(published), interval));
  p->after_check_ = std::move(after_check);
  if (Status s = p->PublishIfChanged(); !s.ok()) return s;
  if (p->after_check_) p->after_check_();
  p->thread_ = std::thread([raw = p.get()] { raw->Run(); });
  *out = std::move(p);
  return Status::Ok();
}

TrustPublisher::~TrustPublisher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status TrustPublisher::PublishIfChanged() {
  std::string bundle;
  if (Status s = ReadFile(client_ca_, &bundle); !s.ok()) return s;
  std::string crls = "none";
  if (!crl_directory_.empty()) {
    if (Status s = CrlDigest(crl_directory_, &crls); !s.ok()) return s;
  }
  std::string next = bundle;
  if (!next.empty() && next.back() != '\n') next += '\n';
  next += "# infoflytd: client CAs of " + client_ca_ + "; CRLs " + crls + "\n";
  if (next == last_) return Status::Ok();
  if (Status s = WriteFileAtomically(published_, next, false); !s.ok()) return s;
  if (!last_.empty()) LogInfo("tls: client CAs or CRLs changed; new connections use them");
  last_ = std::move(next);
  return Status::Ok();
}

void TrustPublisher::Run() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return stop_; })) {
    lock.unlock();
    if (Status s = PublishIfChanged(); !s.ok()) {
      LogWarning("tls: keeping the previous client CAs and CRLs: " + s.message());
    }
    if (after_check_) after_check_();
    lock.lock();
  }
}

}  // namespace infoflyt
