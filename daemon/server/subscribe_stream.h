// One Subscribe call: streams a party's deliveries from the store in id order, one write in
// flight at a time, and sleeps until the hub wakes it when new deliveries are committed. A slow
// reader only slows its own stream: nothing upstream waits for it. A stream whose caller loses
// its trust (party removed, certificate denied or revoked) is ended by the hub.
#pragma once

#include <deque>
#include <memory>
#include <mutex>

#include "server/exchange_service.h"

namespace infoflyt {

class SubscribeStream final : public grpc::ServerWriteReactor<v1::Delivery>,
                              public std::enable_shared_from_this<SubscribeStream> {
 public:
  // Starts a stream for `caller` (at `peer`), or, if `initial` is not OK, one that finishes with
  // it at once. The returned reactor owns itself until gRPC calls OnDone.
  static SubscribeStream* Start(const ServiceContext& ctx, grpc::CallbackServerContext* call,
                                const Caller& caller, uint64_t from_delivery_id,
                                const Status& initial);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  // Private in spirit: public for std::make_shared.
  SubscribeStream(const ServiceContext& ctx, grpc::CallbackServerContext* call,
                  const Caller& caller, uint64_t from_delivery_id);

 private:
  void Wake();
  // Finishes the stream with `why` (at once; with a write in flight, the call is cancelled, so a
  // client that stopped reading cannot keep it) and reports it as a security event; later calls
  // do nothing.
  void End(const Status& why, const std::string& reason);
  // Runs while holding the claim (busy_): fetches and starts the next write, or releases it.
  void FetchAndWrite();
  // Under mu_: whether this caller should call Finish (exactly one does).
  bool TakeFinishLocked();

  const ServiceContext& ctx_;
  grpc::CallbackServerContext* const call_;  // Valid until OnDone (done_ under call_mu_).
  // Recursive: should gRPC run OnDone inside TryCancel, on the same thread.
  std::recursive_mutex call_mu_;
  bool done_ = false;
  const Caller caller_;
  const std::string party_;
  const std::string peer_;
  const bool unacked_only_;
  std::shared_ptr<SubscribeStream> self_;  // Keeps the reactor alive until OnDone.
  uint64_t hub_handle_ = 0;

  std::mutex mu_;
  bool busy_ = false;          // A fetch or a write is in progress (the claim).
  bool wake_pending_ = false;  // Woken while busy: fetch again before sleeping.
  bool cancelled_ = false;
  bool finish_called_ = false;
  grpc::Status end_status_ = grpc::Status::CANCELLED;  // What a cancelled stream finishes with.
  uint64_t next_id_;
  std::deque<v1::Delivery> buffer_;
  v1::Delivery current_;  // The delivery being written.
};

}  // namespace infoflyt
