// Refreshes the part of a page marked data-refresh="<url>" every 5 s, as the server renders it
// (a message's status page: who received and acknowledged it).
"use strict";
(() => {
  for (const part of document.querySelectorAll("[data-refresh]")) {
    setInterval(async () => {
      const response = await fetch(part.dataset.refresh, { credentials: "same-origin", cache: "no-store" });
      if (response.ok) part.innerHTML = await response.text();
    }, 5000);
  }
})();
