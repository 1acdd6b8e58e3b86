// Draws the statistics page's charts with Chart.js from its own tables (templates/
// chart_table.mustache), so the charts show exactly the numbers the tables give, and the
// tables stay the charts' text alternative (WCAG 2.1, 1.1.1).
"use strict";
(() => {
  // Distinguishable colours, each at least 3:1 against white (WCAG 2.1, 1.4.11).
  const colours = ["#0b3d62", "#b35900", "#1e5e2f", "#8a1c1c", "#5b3f8c", "#006d77", "#7a5c00",
    "#4a4a4a"];
  for (const table of document.querySelectorAll("table.chart-data")) {
    const canvas = document.getElementById(table.dataset.chart);
    if (!canvas || typeof Chart === "undefined") continue;
    const headers = [...table.tHead.rows[0].cells];
    const columns = headers.map((h, i) => [h, i]).filter(([h]) => h.dataset.plot === "true");
    const rows = [...table.tBodies[0].rows];
    const stacked = table.dataset.stacked === "true";
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: rows.map((r) => r.cells[0].textContent),
        datasets: columns.map(([h, i], n) => ({
          label: h.textContent,
          data: rows.map((r) => Number(r.cells[i].dataset.value || 0)),
          backgroundColor: colours[n % colours.length],
        })),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: { stacked },
          y: { stacked, beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    });
  }
})();
