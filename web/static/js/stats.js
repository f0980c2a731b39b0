/*
 * The 效能监察 pages (/stats, /stats/report): the filter bar shows the end date only for a custom
 * period; the report's print button. The charts are static/build/dashboard.js.
 */
(function () {
  "use strict";

  function start() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
    // Printed, every chart's numbers show: the closed "查看数据表" open for the paper only.
    var opened = [];
    window.addEventListener("beforeprint", function () {
      document.querySelectorAll("details.chart-data:not([open])").forEach(function (d) {
        d.open = true;
        opened.push(d);
      });
    });
    window.addEventListener("afterprint", function () {
      opened.forEach(function (d) { d.open = false; });
      opened = [];
    });
    document.querySelectorAll("[data-period-kind]").forEach(function (select) {
      var form = select.form;
      var end = form && form.querySelector("[data-end]");
      if (!end) return;
      var show = function () {
        end.hidden = select.value !== "custom";
        var input = end.querySelector("input");
        if (input) input.disabled = end.hidden; // not sent unless custom
      };
      select.addEventListener("change", show);
      show();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
