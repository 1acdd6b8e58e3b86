// The exchange's acts for an identified caller, whatever the transport: gRPC's ExchangeService
// and the web port both call these, so validation, routing, recording and metrics exist once.
// Each finishes by calling `done` exactly once, on a thread that must not block (the executor
// or the committer's completion thread).
#pragma once

#include <functional>
#include <memory>

#include "infoflyt/v1/exchange.pb.h"
#include "server/service_context.h"

namespace infoflyt {

class ExchangeActions {
 public:
  explicit ExchangeActions(const ServiceContext* ctx) : ctx_(ctx) {}

  // Validates, routes and stores `request` as `caller`'s post; the receipt, or why not (a
  // post no recipient may receive is PERMISSION_DENIED, its refusals recorded).
  void Post(const Caller& caller, std::shared_ptr<const Catalogs> catalogs, v1::PostRequest request,
            std::function<void(const Status&, v1::Receipt)> done);

  // Acknowledges `caller`'s deliveries `delivery_ids` (1 to 1000); how many were newly so.
  void Ack(const Caller& caller, std::vector<uint64_t> delivery_ids,
           std::function<void(const Status&, uint64_t newly)> done);

  // The state of message `message_id` as its sender `party` may see it.
  void MessageStatus(const std::string& party, const std::string& message_id,
                     std::function<void(const Status&, v1::MessageStatus)> done);

 private:
  // Validates and routes; on success fills `message`. May read the store (a notice's flags).
  Status Prepare(const Caller& caller, const Catalogs& catalogs, const v1::PostRequest& request,
                 NewMessage* message) const;
  // The receipt the sender sees for a stored post.
  static v1::Receipt ReceiptFor(const PostOp& done);

  const ServiceContext* const ctx_;
};

}  // namespace infoflyt
