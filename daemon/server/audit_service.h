// The Audit gRPC service (callback API), for auditor parties only: queries over the disclosure
// log, subject access reports, signed checkpoints, inclusion and consistency proofs, and export.
// Every call is first recorded in the log itself (event "read": who read what), durably, and
// only then answered; a call whose input is bad is refused before anything is recorded.
#pragma once

#include "infoflyt/v1/audit.grpc.pb.h"
#include "server/authorize.h"
#include "server/exchange_service.h"
#include "server/log_publisher.h"

namespace infoflyt {

class AuditService final : public v1::Audit::CallbackService {
 public:
  AuditService(ServiceContext context, LogPublisher* log) : ctx_(std::move(context)), log_(log) {}

  grpc::ServerUnaryReactor* QueryDisclosures(grpc::CallbackServerContext* call,
                                             const v1::QueryDisclosuresRequest* request,
                                             v1::QueryDisclosuresResponse* response) override;
  grpc::ServerUnaryReactor* SubjectAccessReport(grpc::CallbackServerContext* call,
                                                const v1::SubjectAccessReportRequest* request,
                                                v1::SubjectAccessReportResponse* response) override;
  grpc::ServerUnaryReactor* GetCheckpoint(grpc::CallbackServerContext* call,
                                          const v1::GetCheckpointRequest* request,
                                          v1::SignedCheckpoint* response) override;
  grpc::ServerUnaryReactor* GetInclusionProof(grpc::CallbackServerContext* call,
                                              const v1::GetInclusionProofRequest* request,
                                              v1::InclusionProof* response) override;
  grpc::ServerUnaryReactor* GetConsistencyProof(grpc::CallbackServerContext* call,
                                                const v1::GetConsistencyProofRequest* request,
                                                v1::ConsistencyProof* response) override;
  grpc::ServerWriteReactor<v1::LogEntry>* ExportLog(grpc::CallbackServerContext* call,
                                                    const v1::ExportLogRequest* request) override;
  grpc::ServerUnaryReactor* GetPolicyText(grpc::CallbackServerContext* call,
                                          const v1::GetPolicyTextRequest* request,
                                          v1::PolicyText* response) override;
  grpc::ServerUnaryReactor* GetStatistics(grpc::CallbackServerContext* call,
                                          const v1::GetStatisticsRequest* request,
                                          v1::Statistics* response) override;

  // QueryDisclosures, SubjectAccessReport, GetCheckpoint, GetInclusionProof and GetStatistics for a
  // caller of any transport (the web port's auditor console): authorized, recorded and answered
  // exactly as the calls are. `response` must outlive `done`, which is called once, on the executor
  // or at once for bad input.
  void Checkpoint(const CallPeer& peer, const v1::GetCheckpointRequest& request,
                  v1::SignedCheckpoint* response, std::function<void(const Status&)> done);
  void Proof(const CallPeer& peer, const v1::GetInclusionProofRequest& request,
             v1::InclusionProof* response, std::function<void(const Status&)> done);
  // GetStatistics.
  void Aggregates(const CallPeer& peer, const v1::GetStatisticsRequest& request,
                  v1::Statistics* response, std::function<void(const Status&)> done);
  void Query(const CallPeer& peer, const v1::QueryDisclosuresRequest& request,
             v1::QueryDisclosuresResponse* response, std::function<void(const Status&)> done);
  void Report(const CallPeer& peer, const std::string& national_id,
              v1::SubjectAccessReportResponse* response, std::function<void(const Status&)> done);

  // The checkpoint of `tree_size`, or, if 0, the latest one covering at least `covering`
  // records (signing a new one if needed). Blocks for at most one commit.
  Status CheckpointFor(uint64_t tree_size, uint64_t covering, v1::SignedCheckpoint* out) const;

 private:
  // Authorizes an auditor; runs `precheck` (if any) on the executor, and finishes the call
  // with its error if it fails, recording nothing (bad input); records the read
  // (`subject_hash`: the person looked up, if any; `what`: the call and its filters, never an
  // identity number); then runs `answer` off the committer thread (given the auditor) and
  // finishes the call with its status.
  void RecordedRead(const CallPeer& peer, std::string subject_hash, std::string what,
                    std::function<Status(const Caller&)> answer,
                    std::function<Status(const Caller&)> precheck,
                    std::function<void(const Status&)> done);
  grpc::ServerUnaryReactor* RecordedRead(grpc::CallbackServerContext* call,
                                         std::string subject_hash, std::string what,
                                         std::function<Status(const Caller&)> answer,
                                         std::function<Status(const Caller&)> precheck = nullptr);
  // The same, for a stream: `recorded` runs once the read is recorded (with the auditor), or
  // with the refusal.
  using Recorded = std::function<void(const Status&, const Caller&)>;
  void AuthorizeAndRecord(const CallPeer& peer, std::string subject_hash, std::string what,
                          Recorded recorded,
                          std::function<Status(const Caller&)> precheck = nullptr);
  // Records `caller`'s read, then `recorded` on the executor.
  void Record(const Caller& caller, std::string subject_hash, std::string what, Recorded recorded);

  ServiceContext ctx_;
  LogPublisher* const log_;
};

}  // namespace infoflyt
