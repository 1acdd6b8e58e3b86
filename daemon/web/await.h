// Waits, on a web worker thread (which may block; gRPC's and the committer's threads never do),
// for an act that answers through a callback. The promise is shared with the callback, so an
// answer that comes after the wait gave up lands harmlessly; whatever the act writes into must
// be owned by the callback for the same reason.
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <optional>

#include "base/status.h"

namespace infoflyt {

// How long a page waits for an act (a commit, a store read) before it says so (503).
inline constexpr std::chrono::seconds kWebActTimeout{30};

// Calls `start` with a function to answer by, and returns the answer, or nothing if none came
// within kWebActTimeout.
template <typename T, typename Start>
std::optional<T> Await(Start&& start) {
  auto promise = std::make_shared<std::promise<T>>();
  std::future<T> answer = promise->get_future();
  start([promise](T value) { promise->set_value(std::move(value)); });
  if (answer.wait_for(kWebActTimeout) != std::future_status::ready) return std::nullopt;
  return answer.get();
}

// Await for an act that writes into `answer` and says how it went: `act(answer.get(), done)`.
// `answer` is owned by the callback too, so an answer after the wait gave up lands harmlessly.
template <typename Answer, typename Act>
std::optional<Status> AwaitAct(const std::shared_ptr<Answer>& answer, Act&& act) {
  return Await<Status>(
      [&](auto done) { act(answer.get(), [done, answer](const Status& s) { done(s); }); });
}

}  // namespace infoflyt
