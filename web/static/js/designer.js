/*
 * Designer pages.
 *
 * - A refused upload's diagram is drawn by static/js/diagram.js from the BPMN text in the page
 *   (data-diagram-xml), with the elements in error marked.
 * - Buttons `[data-locate]` (a problem, a task, a change) focus that element in the diagram named
 *   by `data-diagram` (several ids separated by spaces: each of them).
 * - The "expand all" button opens every form preview.
 */
(function () {
  "use strict";

  function locate(button) {
    var id = button.dataset.locate;
    var targets = (button.dataset.diagram || "").split(" ").filter(Boolean);
    var shown = false;
    targets.forEach(function (target) {
      var container = document.getElementById(target);
      if (container && container.lianbanDiagram && container.lianbanDiagram.focus(id)) {
        if (!shown) { container.scrollIntoView({ block: "center", behavior: "smooth" }); }
        shown = true;
      }
    });
    if (!shown) { button.classList.add("not-found"); button.title = "图中没有该元素"; }
  }

  // Selecting a diagram element marks the matching rows of the lists (data-element).
  function selectRows(event) {
    var id = event.detail && event.detail.id;
    document.querySelectorAll("[data-element].selected").forEach(function (row) {
      row.classList.remove("selected");
    });
    if (!id) { return; }
    document.querySelectorAll('[data-element="' + id.replace(/"/g, "") + '"]').forEach(function (row) {
      row.classList.add("selected");
    });
  }

  function start() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("[data-locate]") : null;
      if (button) { event.preventDefault(); locate(button); }
      var expand = event.target.closest ? event.target.closest("[data-expand-forms]") : null;
      if (expand) {
        var previews = document.querySelectorAll("details.form-preview");
        var open = expand.dataset.open !== "1";
        previews.forEach(function (d) { d.open = open; });
        expand.dataset.open = open ? "1" : "0";
        expand.textContent = open ? "全部收起" : "全部展开";
      }
    });
    document.addEventListener("diagram:select", selectRows);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
