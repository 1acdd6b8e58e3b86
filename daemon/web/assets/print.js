// The report's print button (inline handlers are refused by the page's CSP).
"use strict";
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}
