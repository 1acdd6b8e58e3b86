#include "ops/trust_publisher.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <vector>

#include "base/crypto.h"
#include "base/files.h"
#include "base/log.h"

namespace infoflyt {
namespace {

namespace fs = std::filesystem;

// The regular, non-hidden files of `dir` in name order, with their contents.
Status ReadDirectory(const std::string& dir, const std::string& what,
                     std::vector<RevocationList::File>* out) {
  std::vector<fs::path> paths;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && !entry.path().filename().string().starts_with(".")) {
      paths.push_back(entry.path());
    }
  }
  if (ec) return {Code::kFailedPrecondition, "cannot list " + what + " " + dir};
  std::sort(paths.begin(), paths.end());
  for (const fs::path& path : paths) {
    std::string bytes;
    // Fails the whole check, keeping the last copy: a CRL left out would revoke nothing.
    if (Status s = ReadFile(path.string(), &bytes); !s.ok()) return s;
    out->emplace_back(path.filename().string(), std::move(bytes));
  }
  return Status::Ok();
}

std::string DigestOf(const std::vector<RevocationList::File>& files) {
  std::string all;
  for (const auto& [name, bytes] : files) all += name + '\0' + Sha256(bytes);
  return ToHex(Sha256(all));
}

}  // namespace

TrustPublisher::TrustPublisher(TrustPublisherOptions options) : options_(std::move(options)) {}

Status TrustPublisher::Start(TrustPublisherOptions options, AfterCheck after_check,
                             std::unique_ptr<TrustPublisher>* out) {
  std::unique_ptr<TrustPublisher> p(new TrustPublisher(std::move(options)));
  p->after_check_ = std::move(after_check);
  bool published = false;
  if (Status s = p->PublishIfChanged(&published); !s.ok()) return s;
  if (p->after_check_) p->after_check_(p->crls_, published);
  p->thread_ = std::make_unique<PeriodicThread>(
      std::chrono::duration_cast<std::chrono::milliseconds>(p->options_.interval),
      [raw = p.get()] { raw->Check(); });
  *out = std::move(p);
  return Status::Ok();
}

Status TrustPublisher::PublishCrls(const std::vector<RevocationList::File>& files,
                                   std::string* digest) {
  *digest = DigestOf(files);
  if (*digest == published_crls_) return Status::Ok();  // Only the first check finds it empty.
  std::error_code ec;
  fs::create_directories(options_.published_crls, ec);
  std::vector<RevocationList::File> current;
  if (Status s = ReadDirectory(options_.published_crls, "the published CRLs", &current); !s.ok()) {
    return s;
  }
  std::set<std::string> keep;
  for (const auto& file : files) {
    const auto& [name, bytes] = file;
    keep.insert(name);
    auto it = std::ranges::find_if(
        current, [&file](const RevocationList::File& f) { return f.first == file.first; });
    if (it != current.end() && it->second == bytes) continue;
    if (Status s = WriteFileAtomically(options_.published_crls + "/" + name, bytes, false);
        !s.ok()) {
      return s;
    }
  }
  for (const auto& [name, bytes] : current) {
    if (!keep.contains(name)) fs::remove(options_.published_crls + "/" + name, ec);
  }
  published_crls_ = *digest;
  return Status::Ok();
}

Status TrustPublisher::PublishIfChanged(bool* published) {
  *published = false;
  std::string bundle;
  if (Status s = ReadFile(options_.client_ca, &bundle); !s.ok()) return s;
  std::vector<RevocationList::File> files;
  if (!options_.crl_directory.empty()) {
    if (Status s = ReadDirectory(options_.crl_directory, "tls.crl_directory", &files); !s.ok()) {
      return s;
    }
    // The CRLs are verified with the bundle's keys: either changing means parsing again.
    const std::string read = Sha256(bundle) + DigestOf(files);
    if (read != last_crls_) {
      std::vector<RevocationList::Ignored> ignored;
      crls_ = std::make_shared<RevocationList>(RevocationList::Parse(files, bundle, &ignored));
      ignored_.clear();
      for (const auto& i : ignored) {
        LogWarning("tls.crl_directory: ignoring " + i.file + ": " + i.why);
        // A CRL with a bad signature is still given to OpenSSL, which then refuses its CA's
        // clients (fail closed); a file without one would only be noise.
        if (!i.holds_crl) ignored_.insert(i.file);
      }
      last_crls_ = read;
    }
    // Every CRL is enforced at the handshake; one past its nextUpdate too (the verifier
    // decides what a stale one means: client_chain_verifier.h).
    std::erase_if(files,
                  [this](const RevocationList::File& f) { return ignored_.contains(f.first); });
  }
  // Published (empty) also without tls.crl_directory, so the verifier always has one to read.
  std::string crl_digest;
  if (Status s = PublishCrls(files, &crl_digest); !s.ok()) return s;
  std::string next = bundle;
  if (!next.empty() && next.back() != '\n') next += '\n';
  next += "# infoflytd: client CAs of " + options_.client_ca + "; CRLs " + crl_digest + "\n";
  if (next == last_) return Status::Ok();
  if (Status s = WriteFileAtomically(options_.published_ca, next, false); !s.ok()) return s;
  if (!last_.empty()) LogInfo("tls: client CAs or CRLs changed; new connections use them");
  last_ = std::move(next);
  *published = true;
  return Status::Ok();
}

void TrustPublisher::Check() {
  bool published = false;
  if (Status s = PublishIfChanged(&published); !s.ok()) {
    LogWarning("tls: keeping the previous client CAs and CRLs: " + s.message());
  }
  if (after_check_) after_check_(crls_, published);
}

}  // namespace infoflyt
