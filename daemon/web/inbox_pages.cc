#include "web/inbox_pages.h"

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>

#include "base/clock.h"
#include "base/log.h"
#include "core/message_body.h"
#include "web/await.h"
#include "web/envelope_html.h"
#include "web/page.h"

namespace infoflyt {
namespace {

// Each kind of list shows at most this many (unacknowledged, and acknowledged).
constexpr size_t kInboxLimit = 200;
// Live pages a party may hold open at once (tabs, people of one municipality).
constexpr size_t kLivePagesPerParty = 16;
// A comment line this often keeps proxies from closing a quiet event stream.
constexpr auto kKeepAlive = std::chrono::seconds(15);

std::string SenderName(const Catalogs& catalogs, const std::string& key) {
  const Party* party = catalogs.parties.FindByKey(key);
  return party == nullptr ? key : PartyName(*party);
}

// The fields a delivery shows in the list and on its page, from the row and its view.
TemplateData Summary(const StoredDelivery& row, const v1::Envelope* view,
                     const Catalogs& catalogs) {
  TemplateData d;
  d.set("id", std::to_string(row.delivery_id));
  const std::string type = view == nullptr ? "" : std::string(BodyOf(*view).type);
  d.set("type", type.empty() ? "Melding" : MessageTypeLabel(type));
  d.set("subject", view == nullptr ? "" : SubjectName(*view));
  d.set("sender", SenderName(catalogs, row.sender));
  d.set("posted_at", FormatTime(row.posted_at));
  if (row.ack_deadline) d.set("deadline", FormatTime(*row.ack_deadline));
  d.set("acknowledged", row.acknowledged);
  d.set("overdue", !row.acknowledged && row.ack_deadline && *row.ack_deadline < NowMicros());
  d.set("erased", row.erased);
  d.set("unreadable", row.unreadable);
  return d;
}

// The view stored for the recipient, if it opens and parses.
bool ParseView(const StoredDelivery& row, v1::Envelope* view) {
  return !row.erased && !row.unreadable && view->ParseFromString(row.envelope);
}

Status RenderList(const ServiceContext& ctx, const Caller& caller, std::string* html) {
  std::vector<StoredDelivery> rows;
  if (Status s = ctx.store->ReadInbox(caller.party.Key(), kInboxLimit, &rows); !s.ok()) return s;
  const auto catalogs = ctx.catalogs->Get();
  TemplateData list{TemplateData::type::list};
  for (const StoredDelivery& row : rows) {
    v1::Envelope view;
    list << Summary(row, ParseView(row, &view) ? &view : nullptr, *catalogs);
  }
  TemplateData data;
  data.set("has_deliveries", !rows.empty());
  data.set("deliveries", list);
  data.set("party_name", PartyName(caller.party));
  *html = RenderTemplate("inbox_list", data);
  return Status::Ok();
}

void Inbox(const ServiceContext& ctx, const WebRequest& request, httplib::Response& response) {
  std::string list;
  if (Status s = RenderList(ctx, request.caller, &list); !s.ok()) {
    SetErrorPage(HttpStatusOf(s), s.message(), &response);
    return;
  }
  TemplateData data;
  data.set("list", list);
  SetPage(RenderPage(request.caller, "Innboks", RenderTemplate("inbox", data), {"inbox.js"}),
          &response);
}

void InboxList(const ServiceContext& ctx, const WebRequest& request, httplib::Response& response) {
  std::string list;
  if (Status s = RenderList(ctx, request.caller, &list); !s.ok()) {
    SetErrorPage(HttpStatusOf(s), s.message(), &response);
    return;
  }
  response.set_content(list, "text/html; charset=utf-8");
}

// What one open inbox page waits on: woken by the hub when the party has new deliveries.
struct LivePage {
  std::mutex mu;
  std::condition_variable cv;
  bool changed = false;
  bool ended = false;
};

void InboxEvents(const ServiceContext& ctx, const WebServer& server, const WebRequest& request,
                 httplib::Response& response) {
  auto page = std::make_shared<LivePage>();
  uint64_t handle = 0;
  auto wake = [page] {
    std::lock_guard lock(page->mu);
    page->changed = true;
    page->cv.notify_all();
  };
  // A caller that loses its trust (revoked, removed) has its page's stream ended.
  auto end = [page](const Status&, const std::string&) {
    std::lock_guard lock(page->mu);
    page->ended = true;
    page->cv.notify_all();
  };
  if (!ctx.hub->TryAdd(request.caller, kLivePagesPerParty, wake, end, &handle,
                       SubscriptionHub::Pool::kWeb)) {
    SetErrorPage(429, "Lukk noen av de åpne innboks-sidene og prøv igjen.", &response);
    return;
  }
  response.set_chunked_content_provider(
      "text/event-stream",
      [page, &server](size_t, httplib::DataSink& sink) {
        std::unique_lock lock(page->mu);
        // Wait in short slices so a stopping server is not held up by an open page.
        const auto until = std::chrono::steady_clock::now() + kKeepAlive;
        while (!page->changed && !page->ended && !server.stopping() &&
               std::chrono::steady_clock::now() < until) {
          page->cv.wait_for(lock, std::chrono::milliseconds(500));
        }
        if (page->ended || server.stopping()) {
          sink.done();
          return true;
        }
        const bool changed = std::exchange(page->changed, false);
        lock.unlock();
        const std::string event = changed ? "event: changed\ndata: \n\n" : ": keep-alive\n\n";
        return sink.write(event.data(), event.size());
      },
      [hub = ctx.hub, handle](bool) { hub->Remove(handle); });
  response.set_header("X-Accel-Buffering", "no");
}

// The recipient's delivery `id`, or NOT_FOUND.
Status ReadDelivery(const ServiceContext& ctx, const Caller& caller, uint64_t id,
                    StoredDelivery* out) {
  std::vector<StoredDelivery> rows;
  if (Status s = ctx.store->ReadDeliveries(caller.party.Key(), id, false, 1, &rows); !s.ok()) {
    return s;
  }
  if (rows.empty() || rows.front().delivery_id != id) {
    return {Code::kNotFound, "delivery " + std::to_string(id) + " is not one of yours"};
  }
  *out = std::move(rows.front());
  return Status::Ok();
}

uint64_t DeliveryId(const WebRequest& request) {
  return std::stoull(request.http.matches[1].str());
}

void Delivery(const ServiceContext& ctx, const WebRequest& request, httplib::Response& response) {
  StoredDelivery row;
  if (Status s = ReadDelivery(ctx, request.caller, DeliveryId(request), &row); !s.ok()) {
    SetErrorPage(HttpStatusOf(s), s.message(), &response);
    return;
  }
  const auto catalogs = ctx.catalogs->Get();
  v1::Envelope view;
  const bool readable = ParseView(row, &view);
  if (!readable && !row.erased && !row.unreadable) {
    LogError("event=unreadable_delivery delivery=" + std::to_string(row.delivery_id) +
             ": its body does not parse");
    row.unreadable = true;
  }
  TemplateData data = Summary(row, readable ? &view : nullptr, *catalogs);
  if (readable) data.set("sections", EnvelopeSections(view, *catalogs));
  // Shown to the recipient: received, as a delivery written to its Subscribe stream is.
  ctx.committer->Submit(ReceivedOp{request.caller.party.Key(), row.delivery_id, {}, row.unreadable},
                        [](WriteOp&) {});
  SetPage(RenderPage(request.caller, readable ? MessageTypeLabel(BodyOf(view).type) : "Melding",
                     RenderTemplate("delivery", data)),
          &response);
}

void Acknowledge(const ServiceContext& ctx, ExchangeActions* actions, const WebRequest& request,
                 httplib::Response& response) {
  const uint64_t id = DeliveryId(request);
  StoredDelivery row;
  if (Status s = ReadDelivery(ctx, request.caller, id, &row); !s.ok()) {
    SetErrorPage(HttpStatusOf(s), s.message(), &response);
    return;
  }
  const std::optional<Status> acked = Await<Status>([&](auto answer) {
    actions->Ack(request.caller, {id}, [answer](const Status& s, uint64_t) { answer(s); });
  });
  if (!acked || !acked->ok()) {
    SetActErrorPage(acked, &response);
    return;
  }
  response.set_redirect("/deliveries/" + std::to_string(id), 303);
}

}  // namespace

void AddInboxPages(WebServer* server, const ServiceContext* ctx, ExchangeActions* actions) {
  server->Route(WebMethod::kGet, "/inbox", "Web/Inbox", InboxKinds(),
                [ctx](const WebRequest& q, httplib::Response& r) { Inbox(*ctx, q, r); });
  server->Route(WebMethod::kGet, "/inbox/list", "Web/Inbox", InboxKinds(),
                [ctx](const WebRequest& q, httplib::Response& r) { InboxList(*ctx, q, r); });
  server->Route(WebMethod::kGet, "/inbox/events", "Web/InboxEvents", InboxKinds(),
                [ctx, server](const WebRequest& q, httplib::Response& r) {
                  InboxEvents(*ctx, *server, q, r);
                });
  server->Route(WebMethod::kGet, R"(/deliveries/(\d{1,18}))", "Web/Delivery", InboxKinds(),
                [ctx](const WebRequest& q, httplib::Response& r) { Delivery(*ctx, q, r); });
  server->Route(WebMethod::kPost, R"(/deliveries/(\d{1,18})/ack)", "Web/Ack", InboxKinds(),
                [ctx, actions](const WebRequest& q, httplib::Response& r) {
                  Acknowledge(*ctx, actions, q, r);
                });
}

}  // namespace infoflyt
