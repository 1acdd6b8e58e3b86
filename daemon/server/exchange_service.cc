#include "server/exchange_service.h"

#include <algorithm>
#include <asio/post.hpp>
#include <map>
#include <vector>

#include "base/log.h"
#include "server/authorize.h"
#include "server/grpc_status.h"
#include "server/subscribe_stream.h"
#include "core/time_util.h"

namespace infoflyt {
namespace {

constexpr size_t kRecordsPage = 1000;

}  // namespace

grpc::ServerUnaryReactor* ExchangeService::Post(grpc::CallbackServerContext* call,
                                                const v1::PostRequest* request,
                                                v1::Receipt* receipt) {
  auto catalogs = ctx_.catalogs->Get();
  Caller caller;
  if (Status s = Authenticate(ctx_, call, *catalogs, "Exchange/Post", &caller); !s.ok())
    return FinishNow(call, s);
  auto* reactor = call->DefaultReactor();
  actions_.Post(caller, std::move(catalogs), *request,
                [reactor, receipt](const Status& s, v1::Receipt stored) {
                  if (s.ok()) *receipt = std::move(stored);
                  reactor->Finish(ToGrpcStatus(s));
                });
  return reactor;
}

grpc::ServerWriteReactor<v1::Delivery>* ExchangeService::Subscribe(
    grpc::CallbackServerContext* call, const v1::SubscribeRequest* request) {
  const auto catalogs = ctx_.catalogs->Get();
  Caller caller;
  const Status s = Authenticate(ctx_, call, *catalogs, "Exchange/Subscribe", &caller);
  return SubscribeStream::Start(ctx_, call, caller, request->from_delivery_id(), s);
}

grpc::ServerUnaryReactor* ExchangeService::Ack(grpc::CallbackServerContext* call,
                                               const v1::AckRequest* request,
                                               v1::AckResponse* response) {
  const auto catalogs = ctx_.catalogs->Get();
  Caller caller;
  if (Status s = Authenticate(ctx_, call, *catalogs, "Exchange/Ack", &caller); !s.ok())
    return FinishNow(call, s);
  auto* reactor = call->DefaultReactor();
  actions_.Ack(caller, {request->delivery_ids().begin(), request->delivery_ids().end()},
               [reactor, response](const Status& s, uint64_t newly) {
                 response->set_newly_acknowledged(newly);
                 reactor->Finish(ToGrpcStatus(s));
               });
  return reactor;
}

grpc::ServerUnaryReactor* ExchangeService::GetMessageStatus(
    grpc::CallbackServerContext* call, const v1::GetMessageStatusRequest* request,
    v1::MessageStatus* response) {
  const auto catalogs = ctx_.catalogs->Get();
  Caller caller;
  if (Status s = Authenticate(ctx_, call, *catalogs, "Exchange/GetMessageStatus", &caller); !s.ok())
    return FinishNow(call, s);
  auto* reactor = call->DefaultReactor();
  actions_.MessageStatus(caller.party.Key(), request->message_id(),
                         [reactor, response](const Status& s, v1::MessageStatus status) {
                           if (s.ok()) *response = std::move(status);
                           reactor->Finish(ToGrpcStatus(s));
                         });
  return reactor;
}

grpc::ServerUnaryReactor* ExchangeService::GetReceiptEvidence(
    grpc::CallbackServerContext* call, const v1::GetMessageStatusRequest* request,
    v1::ReceiptEvidence* response) {
  const auto catalogs = ctx_.catalogs->Get();
  Caller caller;
  if (Status s = Authenticate(ctx_, call, *catalogs, "Exchange/GetReceiptEvidence", &caller);
      !s.ok())
    return FinishNow(call, s);
  if (request->message_id().empty()) {
    return FinishNow(call, Status::InvalidArgument({{"message_id", "is required"}}));
  }
  auto* reactor = call->DefaultReactor();
  // Reads the store and may wait for a checkpoint to be signed: never on gRPC's thread.
  asio::post(ctx_.executor, [this, reactor, request, response, party = caller.party.Key()] {
    reactor->Finish(ToGrpcStatus(CollectEvidence(request->message_id(), party, response)));
  });
  return reactor;
}

bool StillAsLoggedOrReported(const LogEntry& entry, std::string_view reader, Metrics* metrics) {
  if (StillAsLogged(entry)) return true;
  LogError("event=changed_record_served index=" + std::to_string(entry.record.index()) +
           " reader=" + std::string(reader) +
           ": the stored record no longer hashes to the leaf the log holds for it");
  metrics->changed_records_served.Increment();
  return false;
}

Status ExchangeService::CollectEvidence(const std::string& message_id, const std::string& party,
                                        v1::ReceiptEvidence* response) {
  RecordFilter filter;
  filter.message_id = message_id;
  std::vector<v1::DisclosureRecord> records;
  for (uint64_t from = 0;;) {
    std::vector<LogEntry> page;
    if (Status s = ctx_.store->QueryLog(filter, from, kRecordsPage, &page); !s.ok()) return s;
    for (LogEntry& e : page) {
      // Evidence is never built on a record changed since it was logged.
      if (!StillAsLoggedOrReported(e, party, ctx_.metrics)) {
        return {Code::kDataLoss, "message_id: record " + std::to_string(e.record.index()) +
                                     " of this message was changed in the store since it was "
                                     "logged; no evidence can be given for it"};
      }
      records.push_back(std::move(e.record));
    }
    if (page.size() < kRecordsPage) break;
    from = records.back().index() + 1;
  }
  // The recipients the caller may see, as GetMessageStatus shows them, and their
  // acknowledgements.
  std::map<std::string, v1::RecipientEvidence> by_party;
  std::map<uint64_t, std::string> party_of_delivery;
  uint64_t covering = 0;
  for (const v1::DisclosureRecord& r : records) {
    // A delivery's record: a disclosure, or for infoflytd's own notices an escalation.
    if ((r.event() != "disclose" && r.event() != "escalate") || r.outcome() != "disclosed") {
      continue;
    }
    const bool own = r.sender() == party && r.on_behalf_of().empty();
    if (!own && r.on_behalf_of() != party) continue;
    *by_party[r.recipient()].mutable_disclosure()->mutable_record() = r;
    party_of_delivery[r.delivery_id()] = r.recipient();
    covering = std::max(covering, r.index() + 1);
  }
  if (by_party.empty()) {
    return {Code::kNotFound, "message_id: no message with recipients this party may see"};
  }
  for (const v1::DisclosureRecord& r : records) {
    if (r.event() != "acknowledge") continue;
    auto delivered = party_of_delivery.find(r.delivery_id());
    if (delivered == party_of_delivery.end()) continue;
    *by_party[delivered->second].mutable_acknowledgement()->mutable_record() = r;
    covering = std::max(covering, r.index() + 1);
  }
  StoredCheckpoint checkpoint;
  if (Status s = log_->Covering(covering, &checkpoint); !s.ok()) return s;
  response->set_checkpoint_note(checkpoint.note);
  auto prove = [&](v1::ProvenRecord* proven) {
    std::vector<std::string> path;
    Status s = ctx_.store->InclusionProof(proven->record().index(), checkpoint.tree_size, &path);
    for (std::string& h : path) proven->add_inclusion_proof(std::move(h));
    return s;
  };
  for (auto& [recipient, evidence] : by_party) {
    if (Status s = prove(evidence.mutable_disclosure()); !s.ok()) return s;
    if (evidence.has_acknowledgement()) {
      if (Status s = prove(evidence.mutable_acknowledgement()); !s.ok()) return s;
    }
    *response->add_recipients() = std::move(evidence);
  }
  return Status::Ok();
}

}  // namespace infoflyt
