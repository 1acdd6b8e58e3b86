// A Subscribe stream on its own thread that records what it receives, for integration tests.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "infoflyt_client.h"

namespace infoflyt::testing {

class Subscriber {
 public:
  // Subscribes with `client` from `from` (0: first unacknowledged). If `ack`, acknowledges each
  // delivery after recording it.
  Subscriber(client::ExchangeClient* client, uint64_t from = 0, bool ack = false)
      : client_(client), ack_(ack) {
    thread_ = std::thread([this, from] {
      status_ = client_->Subscribe(from, &context_, [this](const v1::Delivery& d) {
        if (ack_) {
          v1::AckResponse response;
          client_->Ack({d.delivery_id()}, &response);
        }
        std::lock_guard lock(mu_);
        deliveries_.push_back(d);
        cv_.notify_all();
        return true;
      });
      std::lock_guard lock(mu_);
      ended_ = true;
      cv_.notify_all();
    });
  }
  ~Subscriber() { Stop(); }

  // Waits until at least `n` deliveries arrived; false on timeout or if the stream ended.
  bool WaitFor(size_t n, std::chrono::seconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return deliveries_.size() >= n || ended_; }) &&
           deliveries_.size() >= n;
  }
  // Waits until a delivery of `message_id` arrived.
  bool WaitForMessage(const std::string& message_id,
                      std::chrono::seconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    auto has = [&] {
      for (const auto& d : deliveries_) {
        if (d.message_id() == message_id) return true;
      }
      return false;
    };
    cv_.wait_for(lock, timeout, [&] { return has() || ended_; });
    return has();
  }
  std::vector<v1::Delivery> deliveries() {
    std::lock_guard lock(mu_);
    return deliveries_;
  }
  bool WaitEnded(std::chrono::seconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return ended_; });
  }
  void Stop() {
    context_.TryCancel();
    if (thread_.joinable()) thread_.join();
  }
  grpc::Status status() {
    std::lock_guard lock(mu_);
    return status_;
  }

 private:
  client::ExchangeClient* client_;
  const bool ack_;
  grpc::ClientContext context_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<v1::Delivery> deliveries_;
  bool ended_ = false;
  grpc::Status status_;
  std::thread thread_;
};

}  // namespace infoflyt::testing
