// Keeps the inbox current without a reload: the server says "changed" over Server-Sent Events
// (woken the way gRPC Subscribe streams are), and the list is fetched again as the server
// renders it, so nothing reaches the browser that the page itself would not show.
"use strict";
(() => {
  const list = document.getElementById("inbox-list");
  const status = document.getElementById("live-status");
  if (!list) return;
  let known = new Set([...list.querySelectorAll("[data-delivery]")].map((r) => r.dataset.delivery));
  async function refresh() {
    let response;
    try {
      response = await fetch(list.dataset.list, { credentials: "same-origin", cache: "no-store" });
    } catch (e) {
      status.textContent = "Kunne ikke hente innboksen; prøver igjen når forbindelsen er tilbake.";
      return;
    }
    if (!response.ok) {
      status.textContent = "Kunne ikke hente innboksen (" + response.status + ").";
      return;
    }
    list.innerHTML = await response.text();
    const now = new Set([...list.querySelectorAll("[data-delivery]")].map((r) => r.dataset.delivery));
    const added = [...now].filter((id) => !known.has(id)).length;
    known = now;
    if (added > 0) status.textContent = added === 1 ? "1 ny melding." : added + " nye meldinger.";
  }
  const events = new EventSource(list.dataset.events);
  events.addEventListener("changed", () => { refresh(); });
  let opened = false;
  events.addEventListener("open", () => {
    // After a reconnect, what came while the stream was down is fetched at once.
    if (opened) refresh();
    opened = true;
    list.dataset.live = "true";
  });
  events.onerror = () => { list.dataset.live = "false"; };
})();
