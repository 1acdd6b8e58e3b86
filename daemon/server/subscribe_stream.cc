#include "server/subscribe_stream.h"

#include <asio/post.hpp>

#include "base/log.h"
#include "server/grpc_status.h"
#include "core/time_util.h"

namespace infoflyt {
namespace {

constexpr size_t kFetchBatch = 64;

}  // namespace

SubscribeStream* SubscribeStream::Start(const ServiceContext& ctx,
                                        grpc::CallbackServerContext* call, const Caller& caller,
                                        uint64_t from_delivery_id, const Status& initial) {
  auto stream = std::make_shared<SubscribeStream>(ctx, call, caller, from_delivery_id);
  stream->self_ = stream;
  if (!initial.ok()) {
    stream->finish_called_ = true;
    stream->Finish(ToGrpcStatus(initial));
    return stream.get();
  }
  std::weak_ptr<SubscribeStream> weak = stream;
  auto wake = [weak, executor = ctx.executor] {
    asio::post(executor, [weak] {
      if (auto s = weak.lock()) s->Wake();
    });
  };
  auto end = [weak, executor = ctx.executor](const Status& why, const std::string& reason) {
    asio::post(executor, [weak, why, reason] {
      if (auto s = weak.lock()) s->End(why, reason);
    });
  };
  if (!ctx.hub->TryAdd(caller, ctx.max_streams_per_party, wake, end, &stream->hub_handle_)) {
    stream->finish_called_ = true;
    stream->Finish(ToGrpcStatus(
        {Code::kResourceExhausted, "party " + stream->party_ + " already has " +
                                       std::to_string(ctx.max_streams_per_party) +
                                       " open Subscribe streams (server.max_streams_per_party)"}));
    return stream.get();
  }
  ctx.metrics->subscribers.Increment();
  wake();  // The first fetch runs on the executor, after gRPC has the reactor.
  return stream.get();
}

SubscribeStream::SubscribeStream(const ServiceContext& ctx, grpc::CallbackServerContext* call,
                                 const Caller& caller, uint64_t from_delivery_id)
    : ctx_(ctx),
      call_(call),
      caller_(caller),
      party_(caller.party.Key()),
      peer_(call->peer()),
      unacked_only_(from_delivery_id == 0),
      next_id_(from_delivery_id) {}

bool SubscribeStream::TakeFinishLocked() {
  if (finish_called_) return false;
  finish_called_ = true;
  return true;
}

void SubscribeStream::Wake() {
  {
    std::lock_guard lock(mu_);
    if (finish_called_) return;
    if (busy_) {
      wake_pending_ = true;
      return;
    }
    busy_ = true;
  }
  FetchAndWrite();
}

void SubscribeStream::End(const Status& why, const std::string& reason) {
  std::unique_lock lock(mu_);
  if (finish_called_ || cancelled_) return;
  cancelled_ = true;
  end_status_ = ToGrpcStatus(why);
  ctx_.security->Report({.event = "stream_ended",
                         .peer = peer_,
                         .rpc = "Exchange/Subscribe",
                         .reason = reason,
                         .certificate = caller_.certificate,
                         .detail = why.message()});
  if (busy_) {
    // The claim holder finishes once its write completes, which cancelling makes soon.
    lock.unlock();
    std::lock_guard call_lock(call_mu_);
    if (!done_) call_->TryCancel();
    return;
  }
  if (!TakeFinishLocked()) return;
  lock.unlock();
  Finish(end_status_);
}

void SubscribeStream::FetchAndWrite() {
  while (true) {
    {
      std::lock_guard lock(mu_);
      wake_pending_ = false;
    }
    std::vector<StoredDelivery> rows;
    const Status status =
        ctx_.store->ReadDeliveries(party_, next_id_, unacked_only_, kFetchBatch, &rows);
    std::unique_lock lock(mu_);
    if (cancelled_ || !status.ok()) {
      busy_ = false;
      cancelled_ = true;
      if (!TakeFinishLocked()) return;
      const grpc::Status end = status.ok() ? end_status_ : ToGrpcStatus(status);
      lock.unlock();
      Finish(end);
      return;
    }
    if (rows.empty()) {
      if (wake_pending_) continue;
      busy_ = false;  // Sleep until the hub wakes us.
      return;
    }
    for (StoredDelivery& row : rows) {
      v1::Delivery& d = buffer_.emplace_back();
      d.set_delivery_id(row.delivery_id);
      d.set_message_id(std::move(row.message_id));
      d.set_sender(std::move(row.sender));
      *d.mutable_posted_at() = ToTimestamp(row.posted_at);
      if (row.erased) {
        d.set_erased(true);
        // A body that opened but does not parse is as unreadable as one that did not open.
      } else if (row.unreadable || !d.mutable_envelope()->ParseFromString(row.envelope)) {
        if (!row.unreadable) {
          LogError("event=unreadable_delivery delivery=" + std::to_string(row.delivery_id) +
                   ": its body does not parse");
        }
        d.clear_envelope();
        d.set_unreadable(true);
      }
      d.set_acknowledged(row.acknowledged);
    }
    next_id_ = rows.back().delivery_id + 1;
    current_ = std::move(buffer_.front());
    buffer_.pop_front();
    lock.unlock();
    StartWrite(&current_);
    return;
  }
}

void SubscribeStream::OnWriteDone(bool ok) {
  if (ok) {
    ctx_.metrics->deliveries_streamed.Increment();
    if (current_.unreadable()) ctx_.metrics->unreadable_deliveries.Increment();
    ctx_.committer->Submit(ReceivedOp{party_, current_.delivery_id(), {}, current_.unreadable()},
                           [](WriteOp&) {});
  }
  std::unique_lock lock(mu_);
  if (!ok || cancelled_) {
    busy_ = false;
    cancelled_ = true;
    if (!TakeFinishLocked()) return;
    const grpc::Status end = end_status_;
    lock.unlock();
    Finish(end);
    return;
  }
  if (!buffer_.empty()) {
    current_ = std::move(buffer_.front());
    buffer_.pop_front();
    lock.unlock();
    StartWrite(&current_);
    return;
  }
  // Still holding the claim; the read runs on the executor, never on gRPC's callback thread.
  std::shared_ptr<SubscribeStream> self = self_;
  lock.unlock();
  asio::post(ctx_.executor, [self] { self->FetchAndWrite(); });
}

void SubscribeStream::OnCancel() {
  std::unique_lock lock(mu_);
  cancelled_ = true;
  if (busy_ || !TakeFinishLocked()) return;  // The claim holder finishes.
  lock.unlock();
  Finish(grpc::Status::CANCELLED);
}

void SubscribeStream::OnDone() {
  {
    std::lock_guard call_lock(call_mu_);
    done_ = true;
  }
  if (hub_handle_ != 0) {
    ctx_.hub->Remove(hub_handle_);
    ctx_.metrics->subscribers.Decrement();
  }
  self_.reset();  // May destroy this object: nothing may follow.
}

}  // namespace infoflyt
