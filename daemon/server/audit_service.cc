#include "server/audit_service.h"

#include <openssl/crypto.h>

#include <asio/post.hpp>
#include <deque>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/log.h"
#include "core/audit_scope.h"
#include "core/national_id.h"
#include "core/statistics.h"
#include "core/time_util.h"
#include "merkle/record_leaf.h"
#include "server/authorize.h"
#include "server/grpc_status.h"

namespace infoflyt {
namespace {

constexpr uint32_t kDefaultPageSize = 100;
constexpr uint32_t kMaxPageSize = 1000;
constexpr size_t kExportBatch = 500;
// PST's records are exempt from the data subject's right of access.
// Said in every report, whatever it holds: saying it only where something was left out would
// tell the person what the exemption exists to keep from them.
constexpr const char* kExemptions =
    "Opplysninger som Politiets sikkerhetstjeneste (PST) har gitt, mottatt eller fått gitt "
    "videre på sine vegne, er unntatt fra innsyn og tas ikke med i denne oversikten "
    "(politiregisterloven § 66). Records that the Norwegian Police Security Service (PST) "
    "disclosed, received, or had disclosed on its behalf are exempt from access and are not part "
    "of this report (politiregisterloven § 66).";

// Finishes a unary call's reactor with an act's answer.
std::function<void(const Status&)> FinishWith(grpc::ServerUnaryReactor* reactor) {
  return [reactor](const Status& s) { reactor->Finish(ToGrpcStatus(s)); };
}

void ToProto(const StoredCheckpoint& c, const std::string& verifier_key,
             v1::SignedCheckpoint* out) {
  out->set_tree_size(c.tree_size);
  out->set_root_hash(c.root);
  out->set_note(c.note);
  *out->mutable_signed_at() = ToTimestamp(c.signed_at);
  out->set_verifier_key(verifier_key);
}

bool IsPst(const std::string& party) { return party.rfind("pst/", 0) == 0; }

// A page token: where the next page starts, authenticated for the query it continues (under
// the daemon's subject key, apart by its label), so that it is opaque and cannot be made up.
std::string PageTokenMac(std::string_view key, std::string_view query, uint64_t from_index) {
  return ToHex(HmacSha256(key, "infoflyt page token v1\n" + std::string(query) + "\n" +
                                   std::to_string(from_index)))
      .substr(0, 32);
}

std::string MakePageToken(std::string_view key, std::string_view query, uint64_t from_index) {
  return std::to_string(from_index) + "." + PageTokenMac(key, query, from_index);
}

bool ParsePageToken(std::string_view key, std::string_view query, std::string_view token,
                    uint64_t* from_index) {
  const size_t dot = token.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 19) return false;
  const std::string_view digits = token.substr(0, dot);
  if (digits.find_first_not_of("0123456789") != std::string_view::npos) return false;
  const uint64_t index = std::stoull(std::string(digits));
  // Compared in constant time: the MAC is the token's whole secret.
  const std::string expected = PageTokenMac(key, query, index);
  const std::string_view mac = token.substr(dot + 1);
  if (mac.size() != expected.size() ||
      CRYPTO_memcmp(mac.data(), expected.data(), expected.size()) != 0) {
    return false;
  }
  *from_index = index;
  return true;
}

// The message types records carry: the bodies of the API, escalations, and the registry's.
bool IsRecordedMessageType(const std::string& type) {
  if (type == "escalation_notice" || type == kFlagMessageType || type == "policy") return true;
  const auto* field = v1::Envelope::descriptor()->FindFieldByName(type);
  return field != nullptr && field->containing_oneof() != nullptr;
}

// Filter values must be what the catalogues and the log know, never free text: they are
// written into the read's record, which must not carry personal data. "" if `value` is fine.
// A party or basis the catalogues no longer hold (a party removed, a basis retired) is fine if
// it is well formed and the log names it (`*if_logged` is set; QueryDisclosures asks the store
// before recording the read), so that history stays searchable.
std::string FilterProblem(const Catalogs& catalogs, std::string_view name, const std::string& value,
                          bool* if_logged) {
  *if_logged = false;
  if (value.empty()) return "";
  if (name == "party") {
    if (value == "infoflytd" || catalogs.parties.FindByKey(value) != nullptr) return "";
    const size_t slash = value.find('/');
    *if_logged = KindOfKey(value).has_value() && IsPartyId(value.substr(slash + 1));
    return *if_logged ? "" : "must be a party key (e.g. police/oslo) or infoflytd";
  }
  if (name == "legal_basis") {
    if (catalogs.legal_bases.Find(value) != nullptr) return "";
    *if_logged =
        value.size() <= 64 &&
        value.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") == std::string::npos;
    return *if_logged ? "" : catalogs.legal_bases.UnknownIdDescription();
  }
  if (name == "message_type") {
    return IsRecordedMessageType(value) ? ""
                                        : "must be release_notice, return_notice, case_update, "
                                          "concern_report, escalation_notice, flag or policy";
  }
  for (const char* outcome :
       {"disclosed", "refused", "read", "recorded", "acknowledged", "erased"}) {
    if (value == outcome) return "";
  }
  return "must be disclosed, refused, read, recorded, acknowledged or erased";
}

// Streams log entries [from, to) in batches, one write in flight. Owns itself from creation
// until gRPC calls OnDone.
class ExportStream final : public grpc::ServerWriteReactor<v1::LogEntry>,
                           public std::enable_shared_from_this<ExportStream> {
 public:
  static ExportStream* Create(Store* store) {
    auto stream = std::make_shared<ExportStream>(store);
    stream->self_ = stream;
    return stream.get();
  }
  explicit ExportStream(Store* store) : store_(store) {}  // Use Create.

  // `still_trusted` is asked before each batch: an auditor revoked meanwhile gets no more.
  // Records out of `auditor`'s scope go out as their leaf hash alone.
  void Begin(const Party& auditor, uint64_t from, uint64_t to,
             std::function<Status()> still_trusted) {
    auditor_ = auditor;
    next_ = from;
    to_ = to;
    still_trusted_ = std::move(still_trusted);
    WriteNext();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
      return;
    }
    WriteNext();
  }
  void OnDone() override { self_.reset(); }

 private:
  void WriteNext() {
    if (buffer_.empty() && next_ < to_) {
      if (Status s = still_trusted_(); !s.ok()) {
        Finish(ToGrpcStatus(s));
        return;
      }
      std::vector<LogEntry> entries;
      if (Status s = store_->ReadLog(next_, to_, kExportBatch, &entries); !s.ok()) {
        Finish(ToGrpcStatus(s));
        return;
      }
      for (auto& e : entries) {
        v1::LogEntry out;
        if (InScope(auditor_, e.record)) {
          *out.mutable_record() = std::move(e.record);
          out.set_leaf_hash(std::move(e.leaf_hash));
        } else {
          // The hash of the record as it stands, not the stored leaf: a record changed after
          // it was logged then fails the auditor's root check, without its content shown.
          out.mutable_record()->set_index(e.record.index());
          out.set_leaf_hash(merkle::RecordLeafHash(e.record));
          out.set_out_of_scope(true);
        }
        buffer_.push_back(std::move(out));
      }
      next_ = entries.empty() ? to_ : buffer_.back().record().index() + 1;
    }
    if (buffer_.empty()) {
      Finish(grpc::Status::OK);
      return;
    }
    current_ = std::move(buffer_.front());
    buffer_.pop_front();
    StartWrite(&current_);
  }

  Store* const store_;
  Party auditor_;
  std::function<Status()> still_trusted_;
  std::shared_ptr<ExportStream> self_;
  uint64_t next_ = 0;
  uint64_t to_ = 0;
  std::deque<v1::LogEntry> buffer_;
  v1::LogEntry current_;
};

}  // namespace

void AuditService::AuthorizeAndRecord(const CallPeer& peer, std::string subject_hash,
                                      std::string what, Recorded recorded,
                                      std::function<Status(const Caller&)> precheck) {
  const std::string rpc = "Audit/" + what.substr(0, what.find(' '));
  Caller caller;
  if (!Authorize(ctx_, peer, *ctx_.catalogs->Get(), {PartyKind::kAuditor}, rpc, &caller,
                 [recorded](const Status& refusal) { recorded(refusal, Caller{}); })) {
    return;
  }
  if (precheck) {
    // It reads the store: on the executor, never on gRPC's thread.
    asio::post(ctx_.executor,
               [this, subject_hash = std::move(subject_hash), what = std::move(what),
                recorded = std::move(recorded), precheck = std::move(precheck), caller]() mutable {
                 if (Status s = precheck(caller); !s.ok()) {
                   recorded(s, caller);
                   return;
                 }
                 Record(caller, std::move(subject_hash), std::move(what), std::move(recorded));
               });
    return;
  }
  Record(caller, std::move(subject_hash), std::move(what), std::move(recorded));
}

void AuditService::Record(const Caller& caller, std::string subject_hash, std::string what,
                          Recorded recorded) {
  CallRecordOp op;
  op.party = caller.party.Key();
  op.certificate_subject = caller.certificate.subject;
  op.certificate_fingerprint = caller.certificate.fingerprint;
  op.subject_hash = std::move(subject_hash);
  op.reason = std::move(what);
  ctx_.committer->Submit(std::move(op), [this, caller, recorded = std::move(recorded)](WriteOp& w) {
    const Status s = std::get<CallRecordOp>(w).status;
    // Off the committer thread: answering reads the store.
    asio::post(ctx_.executor, [recorded, s, caller] { recorded(s, caller); });
  });
}

void AuditService::RecordedRead(const CallPeer& peer, std::string subject_hash, std::string what,
                                std::function<Status(const Caller&)> answer,
                                std::function<Status(const Caller&)> precheck,
                                std::function<void(const Status&)> done) {
  AuthorizeAndRecord(
      peer, std::move(subject_hash), std::move(what),
      [done = std::move(done), answer = std::move(answer)](const Status& recorded,
                                                           const Caller& caller) {
        done(recorded.ok() ? answer(caller) : recorded);
      },
      std::move(precheck));
}

grpc::ServerUnaryReactor* AuditService::RecordedRead(
    grpc::CallbackServerContext* call, std::string subject_hash, std::string what,
    std::function<Status(const Caller&)> answer, std::function<Status(const Caller&)> precheck) {
  auto* reactor = call->DefaultReactor();
  RecordedRead(PeerOf(call), std::move(subject_hash), std::move(what), std::move(answer),
               std::move(precheck), FinishWith(reactor));
  return reactor;
}

Status AuditService::CheckpointFor(uint64_t tree_size, uint64_t covering,
                                   v1::SignedCheckpoint* out) const {
  StoredCheckpoint c;
  Status s =
      tree_size == 0 ? log_->Covering(covering, &c) : ctx_.store->GetCheckpoint(tree_size, &c);
  if (s.ok()) ToProto(c, log_->VerifierKey(), out);
  return s;
}

grpc::ServerUnaryReactor* AuditService::QueryDisclosures(grpc::CallbackServerContext* call,
                                                         const v1::QueryDisclosuresRequest* request,
                                                         v1::QueryDisclosuresResponse* response) {
  auto* reactor = call->DefaultReactor();
  Query(PeerOf(call), *request, response, FinishWith(reactor));
  return reactor;
}

void AuditService::Query(const CallPeer& peer, const v1::QueryDisclosuresRequest& request,
                         v1::QueryDisclosuresResponse* response,
                         std::function<void(const Status&)> done) {
  std::vector<FieldViolation> violations;
  RecordFilter filter;
  std::string what = "QueryDisclosures";
  if (!request.national_id().empty()) {
    if (std::string problem = NationalIdProblem(request.national_id()); !problem.empty()) {
      violations.push_back({"national_id", std::move(problem)});
    }
    filter.subject_hash = HmacSha256(ctx_.subject_key, request.national_id());
    what += " subject=<the recorded subject>";
  }
  const auto catalogs = ctx_.catalogs->Get();
  std::vector<std::pair<std::string, RecordFilter>> must_be_logged;
  for (auto [value, target, name] :
       {std::tuple{&request.party(), &filter.party, "party"},
        std::tuple{&request.legal_basis(), &filter.legal_basis, "legal_basis"},
        std::tuple{&request.message_type(), &filter.message_type, "message_type"},
        std::tuple{&request.outcome(), &filter.outcome, "outcome"}}) {
    bool if_logged = false;
    if (std::string problem = FilterProblem(*catalogs, name, *value, &if_logged);
        !problem.empty()) {
      violations.push_back({name, std::move(problem)});
      continue;
    }
    if (if_logged) {
      RecordFilter named;
      (std::string_view(name) == "party" ? named.party : named.legal_basis) = *value;
      must_be_logged.emplace_back(name, std::move(named));
    }
    *target = *value;
    if (!value->empty()) what += std::string(" ") + name + "=" + *value;
  }
  if (request.has_from()) filter.from = ToMicros(request.from());
  if (request.has_until()) filter.until = ToMicros(request.until());
  if (filter.from && filter.until && *filter.from >= *filter.until) {
    violations.push_back({"until", "must be after from"});
  }
  if (filter.from) what += " from=" + FormatRfc3339(*filter.from);
  if (filter.until) what += " until=" + FormatRfc3339(*filter.until);
  const uint32_t page_size = request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  if (page_size > kMaxPageSize) violations.push_back({"page_size", "must be at most 1000"});
  uint64_t from_index = 0;
  // The query without its page: a token is good only for the query that issued it.
  const std::string query =
      what + " page_size=" + std::to_string(page_size) + " subject=" + ToHex(filter.subject_hash);
  if (!request.page_token().empty()) {
    if (!ParsePageToken(ctx_.subject_key, query, request.page_token(), &from_index)) {
      violations.push_back({"page_token", "is not a token this service issued for this query"});
    } else {
      what += " from_index=" + std::to_string(from_index);
    }
  }
  if (!violations.empty()) {
    done(Status::InvalidArgument(std::move(violations)));
    return;
  }
  // Before the read is recorded: a value the catalogues do not hold must be one the log names.
  auto named_in_log = [this, must_be_logged](const Caller& caller) {
    for (auto [name, named] : must_be_logged) {
      named.scope = ScopeOf(caller.party);  // Only what the auditor may see counts.
      std::vector<v1::DisclosureRecord> found;
      if (Status s = ctx_.store->QueryRecords(named, 0, 1, &found); !s.ok()) return s;
      if (found.empty()) {
        return Status::InvalidArgument(
            {{name, name == "party" ? "is not a party the registry or the log knows"
                                    : "is not a basis the catalogue or the log knows"}});
      }
    }
    return Status::Ok();
  };
  RecordedRead(
      peer, filter.subject_hash, what,
      [this, filter, from_index, page_size, query, response](const Caller& caller) {
        // The auditor's scope is part of the query, so pages and tokens count only what it
        // may see.
        RecordFilter scoped = filter;
        scoped.scope = ScopeOf(caller.party);
        std::vector<LogEntry> entries;
        if (Status s = ctx_.store->QueryLog(scoped, from_index, page_size, &entries); !s.ok()) {
          return s;
        }
        if (entries.size() == page_size) {
          response->set_next_page_token(
              MakePageToken(ctx_.subject_key, query, entries.back().record.index() + 1));
        }
        for (auto& e : entries) {
          if (!StillAsLoggedOrReported(e, caller.party.Key(), ctx_.metrics)) {
            response->add_changed_records(e.record.index());
          }
          *response->add_records() = std::move(e.record);
        }
        return Status::Ok();
      },
      std::move(named_in_log), std::move(done));
}

grpc::ServerUnaryReactor* AuditService::SubjectAccessReport(
    grpc::CallbackServerContext* call, const v1::SubjectAccessReportRequest* request,
    v1::SubjectAccessReportResponse* response) {
  auto* reactor = call->DefaultReactor();
  Report(PeerOf(call), request->national_id(), response, FinishWith(reactor));
  return reactor;
}

void AuditService::Report(const CallPeer& peer, const std::string& national_id,
                          v1::SubjectAccessReportResponse* response,
                          std::function<void(const Status&)> done) {
  if (std::string problem = NationalIdProblem(national_id); !problem.empty()) {
    done(Status::InvalidArgument({{"national_id", std::move(problem)}}));
    return;
  }
  RecordFilter filter;
  filter.subject_hash = HmacSha256(ctx_.subject_key, national_id);
  filter.outcome = "disclosed";
  RecordedRead(
      peer, filter.subject_hash, "SubjectAccessReport subject=<the recorded subject>",
      [this, filter, response](const Caller& auditor) {
        // The report must be complete but for what the law exempts (PST's): an auditor whose
        // scope leaves out more cannot make one.
        for (PartyKind kind : auditor.party.out_of_scope) {
          if (kind != PartyKind::kPst) {
            return Status{Code::kFailedPrecondition,
                          "this auditor's scope leaves out " + std::string(PartyKindName(kind)) +
                              " records, which a subject access report must hold; ask an "
                              "auditor whose scope holds them"};
          }
        }
        *response->mutable_generated_at() = ToTimestamp(NowMicros());
        response->set_exemptions(kExemptions);
        std::vector<LogEntry> entries;
        for (uint64_t from = 0;;) {
          entries.clear();
          if (Status s = ctx_.store->QueryLog(filter, from, kMaxPageSize, &entries); !s.ok()) {
            return s;
          }
          for (const LogEntry& entry : entries) {
            const v1::DisclosureRecord& r = entry.record;
            // Left out entirely, without a mark or a count (politiregisterloven § 66); and
            // other auditors' reads, if the auditor's scope leaves them out.
            if (IsPst(r.sender()) || IsPst(r.recipient()) || IsPst(r.on_behalf_of())) continue;
            if (!InScope(auditor.party, r)) continue;
            auto* e = response->add_entries();
            *e->mutable_occurred_at() = r.occurred_at();
            e->set_event(r.event());
            e->set_sender(r.sender());
            e->set_recipient(r.recipient());
            e->set_message_type(r.message_type());
            e->set_view(r.view());
            e->set_legal_basis(r.legal_basis());
            e->set_legal_citation(r.legal_citation());
            e->set_index(r.index());
            e->set_changed_since_logged(
                !StillAsLoggedOrReported(entry, auditor.party.Key(), ctx_.metrics));
          }
          if (entries.size() < kMaxPageSize) break;
          from = entries.back().record.index() + 1;
        }
        const Status s = CheckpointFor(0, 0, response->mutable_checkpoint());
        return s.code() == Code::kNotFound ? Status::Ok() : s;
      },
      nullptr, std::move(done));
}

grpc::ServerUnaryReactor* AuditService::GetCheckpoint(grpc::CallbackServerContext* call,
                                                      const v1::GetCheckpointRequest* request,
                                                      v1::SignedCheckpoint* response) {
  auto* reactor = call->DefaultReactor();
  Checkpoint(PeerOf(call), *request, response, FinishWith(reactor));
  return reactor;
}

void AuditService::Checkpoint(const CallPeer& peer, const v1::GetCheckpointRequest& request,
                              v1::SignedCheckpoint* response,
                              std::function<void(const Status&)> done) {
  const uint64_t size = request.tree_size();
  RecordedRead(
      peer, "", "GetCheckpoint tree_size=" + std::to_string(size),
      [this, size, response](const Caller&) {
        return CheckpointFor(size, ctx_.store->LogSize(), response);
      },
      nullptr, std::move(done));
}

grpc::ServerUnaryReactor* AuditService::GetInclusionProof(
    grpc::CallbackServerContext* call, const v1::GetInclusionProofRequest* request,
    v1::InclusionProof* response) {
  auto* reactor = call->DefaultReactor();
  Proof(PeerOf(call), *request, response, FinishWith(reactor));
  return reactor;
}

void AuditService::Proof(const CallPeer& peer, const v1::GetInclusionProofRequest& request,
                         v1::InclusionProof* response, std::function<void(const Status&)> done) {
  const uint64_t index = request.index();
  const uint64_t size = request.tree_size();
  if (size != 0 && index >= size) {
    done(Status::InvalidArgument({{"index", "must be below tree_size"}}));
    return;
  }
  RecordedRead(
      peer, "",
      "GetInclusionProof index=" + std::to_string(index) + " tree_size=" + std::to_string(size),
      [this, index, size, response](const Caller& caller) {
        if (Status s = CheckpointFor(size, index + 1, response->mutable_checkpoint()); !s.ok()) {
          return s;
        }
        const uint64_t tree_size = response->checkpoint().tree_size();
        if (index >= tree_size) {
          return Status::InvalidArgument({{"index", "is not in the log"}});
        }
        std::vector<LogEntry> entry;
        if (Status s = ctx_.store->ReadLog(index, index + 1, 1, &entry); !s.ok()) return s;
        if (entry.empty()) return Status{Code::kNotFound, "index: no such record"};
        // Out of the auditor's scope: the leaf is proven, the record is not shown.
        if (InScope(caller.party, entry[0].record)) {
          *response->mutable_record() = entry[0].record;
          response->set_leaf_hash(entry[0].leaf_hash);
          response->set_leaf(merkle::RecordLeafBytes(entry[0].record));
        } else {
          // As in exports: the record's own hash, so a changed one fails the proof.
          response->mutable_record()->set_index(index);
          response->set_leaf_hash(merkle::RecordLeafHash(entry[0].record));
          response->set_out_of_scope(true);
        }
        std::vector<std::string> proof;
        if (Status s = ctx_.store->InclusionProof(index, tree_size, &proof); !s.ok()) return s;
        for (auto& h : proof) response->add_hashes(std::move(h));
        return Status::Ok();
      },
      nullptr, std::move(done));
}

grpc::ServerUnaryReactor* AuditService::GetConsistencyProof(
    grpc::CallbackServerContext* call, const v1::GetConsistencyProofRequest* request,
    v1::ConsistencyProof* response) {
  const uint64_t from = request->from_size();
  const uint64_t to = request->to_size();
  if (to != 0 && from > to) {
    return FinishNow(call, Status::InvalidArgument({{"from_size", "must not exceed to_size"}}));
  }
  return RecordedRead(
      call, "",
      "GetConsistencyProof from_size=" + std::to_string(from) + " to_size=" + std::to_string(to),
      [this, from, to, response](const Caller&) {
        if (Status s = CheckpointFor(to, from, response->mutable_to()); !s.ok()) return s;
        if (from != 0) {
          if (Status s = CheckpointFor(from, 0, response->mutable_from()); !s.ok()) return s;
        }
        const uint64_t to_size = response->to().tree_size();
        if (from > to_size) {
          return Status::InvalidArgument({{"from_size", "is beyond the latest checkpoint"}});
        }
        std::vector<std::string> proof;
        if (Status s = ctx_.store->ConsistencyProof(from, to_size, &proof); !s.ok()) return s;
        for (auto& h : proof) response->add_hashes(std::move(h));
        return Status::Ok();
      });
}

grpc::ServerWriteReactor<v1::LogEntry>* AuditService::ExportLog(
    grpc::CallbackServerContext* call, const v1::ExportLogRequest* request) {
  const uint64_t from = request->from_index();
  const uint64_t to = request->to_index();
  ExportStream* stream = ExportStream::Create(ctx_.store);
  if (to != 0 && from > to) {
    stream->Finish(
        ToGrpcStatus(Status::InvalidArgument({{"from_index", "must not exceed to_index"}})));
    return stream;
  }
  AuthorizeAndRecord(
      PeerOf(call), "",
      "ExportLog from_index=" + std::to_string(from) + " to_index=" + std::to_string(to),
      [this, stream, from, to](const Status& recorded, const Caller& caller) {
        if (!recorded.ok()) {
          stream->Finish(ToGrpcStatus(recorded));
          return;
        }
        uint64_t end = to;
        if (end == 0) {
          v1::SignedCheckpoint latest;
          if (Status c = CheckpointFor(0, ctx_.store->LogSize(), &latest); !c.ok()) {
            stream->Finish(ToGrpcStatus(c));
            return;
          }
          end = latest.tree_size();
        }
        stream->Begin(caller.party, from, end, [this, caller] {
          std::string reason;
          return ctx_.authenticator->Recheck(caller, ctx_.catalogs->Get()->parties, &reason);
        });
      });
  return stream;
}

grpc::ServerUnaryReactor* AuditService::GetPolicyText(grpc::CallbackServerContext* call,
                                                      const v1::GetPolicyTextRequest* request,
                                                      v1::PolicyText* response) {
  std::string sha256;
  if (request->sha256().size() != 64 || !FromHex(request->sha256(), &sha256)) {
    return FinishNow(call, Status::InvalidArgument({{"sha256", "must be 64 hex digits"}}));
  }
  return RecordedRead(call, "", "GetPolicyText sha256=" + ToHex(sha256),
                      [this, sha256, response](const Caller&) {
                        PolicyText text;
                        if (Status s = ctx_.store->GetPolicyText(sha256, &text); !s.ok()) return s;
                        // Served only as what the record names: a text changed in the database
                        // is not.
                        if (Sha256(text.text) != sha256) {
                          return Status{Code::kInternal,
                                        "the stored text no longer matches its hash (changed in "
                                        "the database)"};
                        }
                        response->set_name(text.name);
                        response->set_text(text.text);
                        return Status::Ok();
                      });
}

grpc::ServerUnaryReactor* AuditService::GetStatistics(grpc::CallbackServerContext* call,
                                                      const v1::GetStatisticsRequest* request,
                                                      v1::Statistics* response) {
  auto* reactor = call->DefaultReactor();
  Aggregates(PeerOf(call), *request, response, FinishWith(reactor));
  return reactor;
}

void AuditService::Aggregates(const CallPeer& peer, const v1::GetStatisticsRequest& request,
                              v1::Statistics* response, std::function<void(const Status&)> done) {
  int64_t from = 0;
  int64_t until = 0;
  if (Status s = StatisticsPeriod(request, NowMicros(), &from, &until); !s.ok()) {
    done(s);
    return;
  }
  RecordedRead(
      peer, "", "GetStatistics from=" + FormatRfc3339(from) + " until=" + FormatRfc3339(until),
      [this, from, until, response](const Caller& caller) {
        RecordFilter period;
        period.from = from;
        period.until = until;
        period.scope = ScopeOf(caller.party);
        std::vector<RecordCount> counts;
        std::vector<MunicipalityAck> acks;
        if (Status s = ctx_.store->CountRecords(period, &counts, &acks); !s.ok()) return s;
        *response->mutable_from() = ToTimestamp(from);
        *response->mutable_until() = ToTimestamp(until);
        for (const RecordCount& c : counts) {
          v1::Statistics::DailyCount* day = response->add_counts();
          day->set_day(DayName(c.day));
          day->set_event(c.event);
          day->set_outcome(c.outcome);
          day->set_legal_basis(c.legal_basis);
          day->set_sender_kind(c.sender_kind);
          day->set_count(c.count);
        }
        // The store gives them by municipality: one summary for each run.
        for (size_t i = 0; i < acks.size();) {
          std::vector<AckSample> samples;
          size_t j = i;
          for (; j < acks.size() && acks[j].municipality == acks[i].municipality; ++j) {
            samples.push_back(acks[j].sample);
          }
          v1::Statistics::Acknowledgements* a = response->add_acknowledgements();
          a->set_municipality(acks[i].municipality);
          SummarizeAcks(samples, a);
          i = j;
        }
        return Status::Ok();
      },
      nullptr, std::move(done));
}

}  // namespace infoflyt
