// Connections for reads beside the writer, lent out one at a time. A borrower waits at most the
// pool's `wait` for one to come free, then gets UNAVAILABLE (retryable): a burst of slow reads
// makes callers fail soon rather than hold their threads without end.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace infoflyt {

template <typename Conn>
class ConnectionPool {
 public:
  // `on_return` (if set) runs on each connection as it comes back, e.g. to end its snapshot.
  explicit ConnectionPool(std::chrono::milliseconds wait,
                          std::function<void(Conn&)> on_return = nullptr)
      : wait_(wait), on_return_(std::move(on_return)) {}
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  void Add(std::unique_ptr<Conn> conn) {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(conn));
  }

  // A borrowed connection, given back when the lease ends.
  class Lease {
   public:
    Lease() = default;
    ~Lease() {
      if (conn_) pool_->Return(std::move(conn_));
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Conn& operator*() const { return *conn_; }
    Conn* operator->() const { return conn_.get(); }

   private:
    friend class ConnectionPool;
    ConnectionPool* pool_ = nullptr;
    std::unique_ptr<Conn> conn_;
  };

  // Lends a connection to `lease` (which must hold none); UNAVAILABLE if none came free in time.
  Status Borrow(Lease* lease) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, wait_, [&] { return !idle_.empty(); })) {
      return {Code::kUnavailable, "store: every reader connection stayed busy for " +
                                      std::to_string(wait_.count()) + " ms"};
    }
    lease->pool_ = this;
    lease->conn_ = std::move(idle_.back());
    idle_.pop_back();
    return Status::Ok();
  }

 private:
  void Return(std::unique_ptr<Conn> conn) {
    if (on_return_) on_return_(*conn);
    {
      std::lock_guard lock(mu_);
      idle_.push_back(std::move(conn));
    }
    cv_.notify_one();
  }

  const std::chrono::milliseconds wait_;
  const std::function<void(Conn&)> on_return_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> idle_;
};

}  // namespace infoflyt
