/*
 * The auditor's history page: the step slider.
 *
 * Moving the slider (mouse, keyboard arrows, the ◀ ▶ buttons, or a click on a row of the event
 * table) fetches /audit/cases/<id>/steps/<n>.json and shows the case as it stood after event n:
 * the diagram's highlight (el.lianbanDiagram.highlight), the event described, the case data with
 * what changed since the step before marked, and the open tasks. The section #history gets
 * data-step="<n>" once step n is shown (data-loading while it is fetched).
 */
(function () {
  "use strict";

  var section, slider, output, eventBox, dataBody, taskList, diagramEl, labels, values, steps, baseUrl;
  var pendingState = null;
  var timer = null;
  var requested = null;

  function text(tag, value, cls) {
    var el = document.createElement(tag);
    if (cls) { el.className = cls; }
    el.textContent = value;
    return el;
  }

  // An attachment (a data URL: data:<type>;name=<quoted name>;base64,<content>) is shown by
  // its name and size, not its bytes.
  var ATTACHMENT = /^data:([^;,]*)(?:;name=([^;,]*))?;base64,/;

  // A value in its form's words (issue 17 · A): #field-values maps field -> {JSON of a value:
  // its title} (choices, 是/否), "*" -> {JSON of a material code: its name}.
  function titled(value, field) {
    var key = JSON.stringify(value);
    var own = (values && values[field]) || {};
    var materials = (values && values["*"]) || {};
    if (Object.prototype.hasOwnProperty.call(own, key)) { return own[key]; }
    if (Object.prototype.hasOwnProperty.call(materials, key)) { return materials[key]; }
    return null;
  }

  function show(value, field) {
    if (value === null || value === undefined) { return "—"; }
    if (Array.isArray(value)) {
      return value.map(function (v) { return show(v, field); }).join("、");
    }
    var title = titled(value, field);
    if (title !== null) { return title; }
    if (typeof value === "string") {
      var found = ATTACHMENT.exec(value);
      if (!found) { return value; }
      var name = found[2] ? decodeURIComponent(found[2]) : "附件";
      var bytes = Math.floor((value.length - found[0].length) * 3 / 4);
      return "附件: " + name + " (" + (bytes / 1024).toFixed(1) + " KB)";
    }
    return JSON.stringify(value);
  }

  function highlight(state) {
    if (diagramEl && diagramEl.lianbanDiagram) {
      diagramEl.lianbanDiagram.highlight(state);
    } else {
      pendingState = state;  // applied when the diagram is ready
    }
  }

  function renderEvent(step) {
    eventBox.textContent = "";
    if (!step.event) {
      eventBox.appendChild(text("span", "第 0 步 · 收件之前", "ev-label"));
      return;
    }
    var e = step.event;
    eventBox.appendChild(text("span", "第 " + step.seq + " 步 · " + e.label, "ev-label"));
    eventBox.appendChild(text("span", e.at + " · " + e.actor));
    eventBox.appendChild(text("div", e.detail, "ev-detail"));
    var status = text("div", "回放后状态: " + step.status_label + " · ", "small");
    status.appendChild(step.matches_record
      ? text("span", "与记录一致", "badge ok")
      : text("span", "与记录不符", "badge overdue"));
    eventBox.appendChild(status);
  }

  function renderData(step) {
    var changes = {};
    step.changes.forEach(function (c) { changes[c.field] = c; });
    dataBody.textContent = "";
    function row(field, valueCell, cls) {
      var tr = document.createElement("tr");
      if (cls) { tr.className = cls; }
      tr.setAttribute("data-field", field);
      tr.appendChild(text("td", labels[field] || field, "field"));
      tr.appendChild(valueCell);
      dataBody.appendChild(tr);
    }
    Object.keys(step.data).sort().forEach(function (field) {
      var cell = document.createElement("td");
      cell.className = "value";
      var change = changes[field];
      if (change && change.change === "changed") {
        cell.appendChild(text("span", show(change.before, field), "before"));
      }
      cell.appendChild(document.createTextNode(show(step.data[field], field)));
      row(field, cell, change ? "changed" : "");
    });
    step.changes.forEach(function (c) {
      if (c.change !== "removed") { return; }
      var cell = document.createElement("td");
      cell.className = "value";
      cell.appendChild(text("span", show(c.before, c.field), "before"));
      cell.appendChild(document.createTextNode("(已移除)"));
      row(c.field, cell, "changed removed");
    });
  }

  function renderTasks(step) {
    taskList.textContent = "";
    if (!step.tasks.length) { taskList.appendChild(text("li", "无", "muted")); }
    step.tasks.forEach(function (t) { taskList.appendChild(text("li", t.name)); });
  }

  function render(step) {
    renderEvent(step);
    renderData(step);
    renderTasks(step);
    // the element the event concerns (a task claimed, transferred, delegated, urged...) is
    // outlined; a 退回/撤回 is drawn back (diagram.js drawSentBack)
    highlight({ completed: step.completed, active: step.active, sent_back: step.sent_back,
      event: step.event && step.event.element ? [step.event.element] : [] });
    document.querySelectorAll("table.events tr[data-seq]").forEach(function (tr) {
      tr.classList.toggle("current", tr.getAttribute("data-seq") === String(step.seq));
    });
    section.dataset.step = String(step.seq);
    delete section.dataset.loading;
    delete eventBox.dataset.loading;
  }

  function fail(message) {
    eventBox.textContent = "";
    eventBox.appendChild(text("span", message, "error-text"));
    delete section.dataset.loading;
    delete eventBox.dataset.loading;
  }

  function load(seq) {
    requested = seq;
    section.dataset.loading = "true";
    eventBox.dataset.loading = "true";
    var url = baseUrl.replace(/\/0\.json$/, "/" + seq + ".json");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { throw new Error(body.error || ("HTTP " + response.status)); }
          return body;
        });
      })
      .then(function (step) { if (step.seq === requested) { render(step); } })
      .catch(function (err) { if (seq === requested) { fail(err.message); } });
  }

  function moveTo(seq) {
    seq = Math.max(0, Math.min(steps, seq));
    slider.value = String(seq);
    output.textContent = "第 " + seq + " / " + steps + " 步";
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(function () { load(seq); }, 120);
  }

  function start() {
    section = document.getElementById("history");
    slider = document.getElementById("step-slider");
    if (!section || !slider) { return; }
    output = document.getElementById("step-output");
    eventBox = document.getElementById("step-event");
    dataBody = document.querySelector("#step-data tbody");
    taskList = document.getElementById("step-tasks");
    diagramEl = document.getElementById("history-diagram");
    steps = parseInt(section.dataset.steps, 10) || 0;
    baseUrl = section.dataset.stepsUrl;
    try { labels = JSON.parse(document.getElementById("field-labels").textContent); } catch (e) { labels = {}; }
    try { values = JSON.parse(document.getElementById("field-values").textContent); } catch (e) { values = {}; }

    slider.addEventListener("input", function () { moveTo(parseInt(slider.value, 10)); });
    document.querySelectorAll("[data-move]").forEach(function (button) {
      button.addEventListener("click", function () {
        moveTo(parseInt(slider.value, 10) + parseInt(button.getAttribute("data-move"), 10));
        slider.focus();
      });
    });
    document.querySelectorAll("table.events tr[data-seq]").forEach(function (tr) {
      tr.addEventListener("click", function () {
        moveTo(parseInt(tr.getAttribute("data-seq"), 10));
        section.scrollIntoView({ behavior: "smooth" });
        slider.focus();
      });
    });
    if (diagramEl) {
      diagramEl.addEventListener("diagram:ready", function () {
        if (pendingState) { diagramEl.lianbanDiagram.highlight(pendingState); pendingState = null; }
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
