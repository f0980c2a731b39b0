/* The editor's 试运行 tab (templates/designer/_test_run.html).

   A test run is a list of steps the server replays on the current draft for every request
   (POST data-run-url with {files, steps}; nothing is stored): {"start": data},
   {"complete": element, "data": {...}}, {"fire_timer": element}. Only steps the server accepted
   are kept here, so 撤销上一步 drops the last one and 重新开始 empties the list; a refused step
   shows its error and leaves the run as it was. The path is lit on a read-only bpmn-js viewer of
   the draft's diagram: completed elements and flows green, ready tasks and waiting timers blue, a
   join with tokens waiting amber with "2 路中已到 1 路", the branches not taken dimmed.
   Saved runs (the bundle's regression tests) live under data-runs-url: 保存为回归测试 records
   the current steps on the draft, 全部重跑 re-runs each on the draft and shows ✓ or ✗ with the
   first difference. */
(function () {
  "use strict";
  var root = document.getElementById("testrun");
  var editor = document.getElementById("editor");
  var draft = window.LianbanDraft;
  if (!root || !editor || !draft) return;

  var key = editor.dataset.key || "";
  var runUrl = root.dataset.runUrl;
  var runsUrl = (root.dataset.runsUrl || "").replace("__KEY__", encodeURIComponent(key));
  var steps = [];
  var answer = null;
  var names = {};
  var viewer = null;
  var shownXml = null;
  var overlayIds = [];
  var marked = [];
  var busy = false;

  function $(selector) { return root.querySelector(selector); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function status(text, kind) {
    var node = $("[data-tr-status]");
    node.textContent = text || "";
    node.className = "testrun-status" + (kind ? " " + kind : "");
  }

  function request(method, url, body) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": draft.csrf() },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.text().then(function (text) {
        var json;
        try { json = text ? JSON.parse(text) : {}; } catch (err) {
          json = { error: "服务器返回了无法识别的内容 (HTTP " + response.status + ")" };
        }
        if (!response.ok) {
          var failure = new Error(json.error || ("请求失败 (HTTP " + response.status + ")"));
          failure.details = json.errors || [];
          throw failure;
        }
        return json;
      });
    });
  }

  // -- forms from a JSON schema -------------------------------------------------------------

  function choicesOf(schema) {
    if (!schema) return null;
    if (Array.isArray(schema.oneOf) && schema.oneOf.length && schema.oneOf.every(function (o) {
      return o && Object.prototype.hasOwnProperty.call(o, "const");
    })) {
      return schema.oneOf.map(function (o) { return { value: o.const, title: o.title || String(o.const) }; });
    }
    if (Array.isArray(schema.enum)) {
      return schema.enum.map(function (v) { return { value: v, title: String(v) }; });
    }
    if (schema.type === "boolean") {
      return [{ value: true, title: "是" }, { value: false, title: "否" }];
    }
    return null;
  }

  function fieldOf(name, schema, required, prefix) {
    schema = schema || {};
    var title = schema.title || name;
    var label = el("span", { className: required ? "required" : "" }, [title + " "]);
    var wrap = el("div", { className: "testrun-field", "data-field": name }, [label]);
    var choices = choicesOf(schema);
    var id = prefix + "-" + name;
    if (choices) {
      var group = el("div", { className: "testrun-choices", role: "radiogroup", "aria-label": title });
      choices.forEach(function (choice, i) {
        var input = el("input", { type: "radio", name: id, value: String(i) });
        input.choiceValue = choice.value;
        group.appendChild(el("label", {}, [input, " " + choice.title]));
      });
      wrap.appendChild(group);
      wrap.read = function () {
        var picked = group.querySelector("input:checked");
        return picked ? { set: true, value: picked.choiceValue } : { set: false };
      };
      wrap.pick = function (value) {
        group.querySelectorAll("input").forEach(function (input) {
          input.checked = input.choiceValue === value;
        });
      };
      wrap.choices = choices;
      return wrap;
    }
    var itemChoices = schema.type === "array" ? choicesOf(schema.items) : null;
    if (itemChoices) {
      var boxes = el("div", { className: "testrun-choices", "aria-label": title });
      itemChoices.forEach(function (choice) {
        var box = el("input", { type: "checkbox", name: id });
        box.choiceValue = choice.value;
        boxes.appendChild(el("label", {}, [box, " " + choice.title]));
      });
      wrap.appendChild(boxes);
      wrap.read = function () {
        var values = [];
        boxes.querySelectorAll("input:checked").forEach(function (b) { values.push(b.choiceValue); });
        return values.length ? { set: true, value: values } : { set: false };
      };
      return wrap;
    }
    var input;
    if (schema.type === "number" || schema.type === "integer") {
      input = el("input", { type: "number", name: name, step: schema.type === "integer" ? "1" : "any" });
    } else if (schema.type === "string" && schema.format === "date") {
      input = el("input", { type: "date", name: name });
    } else if (schema.type === "string" || !schema.type) {
      input = (schema.maxLength || 0) > 200
        ? el("textarea", { name: name, rows: "2" })
        : el("input", { type: "text", name: name });
    } else {
      input = el("textarea", { name: name, rows: "2", placeholder: "JSON" });
    }
    if (schema.description) input.title = schema.description;
    wrap.appendChild(input);
    wrap.read = function () {
      var raw = input.value;
      if (raw === "") return { set: false };
      if (schema.type === "number") return { set: true, value: Number(raw) };
      if (schema.type === "integer") return { set: true, value: parseInt(raw, 10) };
      if (input.tagName === "TEXTAREA" && input.placeholder === "JSON") {
        try { return { set: true, value: JSON.parse(raw) }; } catch (err) {
          return { set: true, value: raw };
        }
      }
      return { set: true, value: raw };
    };
    return wrap;
  }

  /* `order`: the field names in the form's own order (the JSON answer sorts object keys). */
  function buildForm(form, schema, prefix, order) {
    form.textContent = "";
    var fields = [];
    var properties = (schema && schema.properties) || {};
    var required = (schema && schema.required) || [];
    var names = (order || []).filter(function (n) { return Object.prototype.hasOwnProperty.call(properties, n); });
    Object.keys(properties).forEach(function (n) { if (names.indexOf(n) < 0) names.push(n); });
    names.forEach(function (name) {
      var field = fieldOf(name, properties[name], required.indexOf(name) >= 0, prefix);
      fields.push(field);
      form.appendChild(field);
    });
    if (!fields.length) {
      form.appendChild(el("p", { className: "muted small", text: schema ? "此表单没有字段" : "没有表单: 可不填, 或以 JSON 填写数据" }));
    }
    var json = el("textarea", { rows: "3", "data-tr-json": true, placeholder: '{"字段": "值"}' });
    form.appendChild(el("details", { className: "testrun-json" }, [el("summary", { text: "以 JSON 填写 (覆盖上面的字段)" }), json]));
    form.fields = fields;
    form.readData = function () {
      var data = {};
      fields.forEach(function (field) {
        var got = field.read();
        if (got.set) data[field.dataset.field] = got.value;
      });
      if (json.value.trim()) {
        var extra = JSON.parse(json.value);
        if (!extra || typeof extra !== "object" || Array.isArray(extra)) throw new Error("JSON 数据必须是对象");
        Object.keys(extra).forEach(function (k) { data[k] = extra[k]; });
      }
      return data;
    };
    return form;
  }

  function markInvalid(form, errors) {
    form.querySelectorAll(".testrun-field").forEach(function (field) {
      field.classList.remove("invalid");
      var old = field.querySelector(".field-error");
      if (old) old.remove();
    });
    (errors || []).forEach(function (problem) {
      var field = problem.field && form.querySelector('[data-field="' + CSS.escape(problem.field) + '"]');
      if (!field) return;
      field.classList.add("invalid");
      field.appendChild(el("div", { className: "field-error", text: problem.message }));
    });
  }

  // -- running steps ------------------------------------------------------------------------

  /* An element's name on the diagram (else what the server said, else its id). */
  function nameOf(id) {
    var found = viewer && viewer.get("elementRegistry").get(id);
    var name = found && found.businessObject && found.businessObject.name;
    return name ? String(name).replace(/\s+/g, " ") : (names[id] || id);
  }

  function describe(step) {
    if (step.start) return "提交申请";
    if (step.fire_timer) return "快进定时器 " + nameOf(step.fire_timer);
    var data = step.data || {};
    var shown = Object.keys(data).slice(0, 3).map(function (k) {
      var v = data[k];
      return k + "=" + (typeof v === "string" ? v : JSON.stringify(v));
    }).join(", ");
    return nameOf(step.complete) + (shown ? ": " + shown : "");
  }

  function play(candidate, form) {
    if (busy) return Promise.resolve(null);
    busy = true;
    root.dataset.state = "running";
    status("运行中…");
    return draft.snapshot().then(function (files) {
      return request("POST", runUrl, { files: files, steps: candidate }).then(function (json) {
        return { files: files, json: json };
      });
    }).then(function (got) {
      var json = got.json;
      if (json.ok) {
        steps = candidate;
        showError(null);
        status(candidate.length ? "第 " + candidate.length + " 步已执行" : "可以开始", "ok");
      } else {
        // the refused step is not kept: the run stays as it was before it
        steps = candidate.slice(0, json.error.step - 1);
        showError(json.error);
        status("第 " + json.error.step + " 步未通过", "error");
      }
      // a refused form stays as filled in, its wrong fields marked; the run did not move
      var keep = !json.ok && form && document.contains(form);
      render(json, got.files, keep);
      if (keep) markInvalid(form, json.error.errors);
      return json;
    }).catch(function (err) {
      showError({ message: err.message, errors: err.details || [] });
      status("无法试运行", "error");
      // the draft's own problems (it fails the upload checks): listed in the footer too, and
      // marked on the modeler's diagram
      var located = (err.details || []).filter(function (p) { return "line" in p || "file" in p; });
      if (located.length && draft.showProblems) draft.showProblems(located);
      return null;
    }).finally(function () {
      busy = false;
      root.dataset.state = "idle";
    });
  }

  function refresh() { return play(steps.slice()); }

  function showError(error) {
    var box = $("[data-tr-error]");
    box.textContent = "";
    box.hidden = !error;
    if (!error) return;
    var where = error.step ? "第 " + error.step + " 步未通过: " : "";
    box.appendChild(el("div", { text: where + error.message }));
    var list = (error.errors || []).filter(function (p) { return p.message && p.message !== error.message; });
    if (list.length) {
      box.appendChild(el("ul", {}, list.map(function (p) {
        var at = [p.file, p.element, p.field].filter(Boolean).join(" · ");
        return el("li", { text: (at ? at + ": " : "") + p.message });
      })));
    }
  }

  function render(json, files, keepForms) {
    answer = json;
    (json.ready || []).forEach(function (t) { names[t.element] = t.name; });
    (json.timers || []).forEach(function (t) { names[t.element] = t.name || t.element; });
    (json.waiting || []).forEach(function (w) { names[w.element] = w.name || w.element; });
    if (!keepForms) {
      renderStart(json);
      renderReady(json);
    }
    renderTimers(json);
    renderEnded(json);
    renderSteps(json);
    $("[data-tr-action=undo]").disabled = !steps.length;
    $("[data-tr-action=save-run]").disabled = !steps.length;
    showDiagram(files).then(function () {
      highlight(json);
      renderSteps(json); // again, with the names on the diagram
    });
  }

  function renderStart(json) {
    var panel = $("[data-tr-start]");
    panel.hidden = !!json.started;
    if (json.started) return;
    var start = json.start_form || {};
    $("[data-tr-start-form]").textContent = start.form ? "(" + start.form + ")" : "";
    var form = $("[data-tr-form=start]");
    if (form.dataset.form !== String(start.form) || !form.fields) {
      buildForm(form, start.schema, "start", start.fields);
      form.dataset.form = String(start.form);
      form.appendChild(el("div", { className: "testrun-actions" }, [
        el("button", { type: "submit", className: "primary", text: "提交申请" }),
      ]));
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var data;
        try { data = form.readData(); } catch (err) { showError({ message: err.message }); return; }
        play([{ start: data }], form);
      });
    }
  }

  function renderReady(json) {
    var holder = $("[data-tr-ready]");
    holder.textContent = "";
    var ready = json.ready || [];
    $("[data-tr-ready-panel]").hidden = !json.started || !ready.length;
    ready.forEach(function (task, index) {
      var form = el("form", { novalidate: true, "data-tr-task": task.element });
      buildForm(form, task.schema, "task" + index, task.fields);
      var card = el("div", { className: "testrun-task", "data-tr-task-card": task.element }, [
        el("h4", {}, [task.name + " ", el("code", { className: "small", text: task.element })]),
        el("div", { className: "muted small", text: "办理组: " + ((task.groups || []).join(", ") || "-") + (task.form ? " · 表单 " + task.form : "") }),
      ]);
      var first = quickField(form.fields || [], task.schema);
      if (first) {
        var quick = el("div", { className: "testrun-quick", "aria-label": "快速办理" });
        first.choices.forEach(function (choice) {
          var button = el("button", { type: "button", "data-tr-quick": String(choice.value), text: choice.title });
          button.addEventListener("click", function () {
            first.pick(choice.value);
            submitTask(task, form);
          });
          quick.appendChild(button);
        });
        card.appendChild(quick);
      }
      card.appendChild(form);
      form.appendChild(el("div", { className: "testrun-actions" }, [
        el("button", { type: "submit", className: "primary", text: "完成任务" }),
      ]));
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        submitTask(task, form);
      });
      holder.appendChild(card);
    });
  }

  /* The field whose options become quick outcome buttons: a required yes/no (an approval),
     else the first required choice, else the first choice. */
  function quickField(fields, schema) {
    var required = (schema && schema.required) || [];
    var choices = fields.filter(function (f) { return f.choices; });
    var wanted = choices.filter(function (f) { return required.indexOf(f.dataset.field) >= 0; });
    var yesNo = wanted.filter(function (f) {
      return f.choices.length === 2 && typeof f.choices[0].value === "boolean";
    });
    return yesNo[0] || wanted[0] || choices[0] || null;
  }

  function submitTask(task, form) {
    var data;
    try { data = form.readData(); } catch (err) { showError({ message: err.message }); return; }
    play(steps.concat([{ complete: task.element, data: data }]), form);
  }

  function renderTimers(json) {
    var list = $("[data-tr-timers]");
    list.textContent = "";
    var timers = json.timers || [];
    $("[data-tr-timers-panel]").hidden = !timers.length;
    $("[data-tr-now]").textContent = json.now ? new Date(json.now).toLocaleString("zh-CN") : "";
    timers.forEach(function (timer) {
      var button = el("button", { type: "button", "data-tr-fire": timer.element, text: "快进定时器" });
      button.addEventListener("click", function () {
        play(steps.concat([{ fire_timer: timer.element }]));
      });
      list.appendChild(el("li", {}, [
        (timer.name || timer.element) + " 到期 " + new Date(timer.due).toLocaleString("zh-CN") + " ",
        button,
      ]));
    });
  }

  function renderEnded(json) {
    var panel = $("[data-tr-ended]");
    panel.hidden = !json.ended;
    panel.textContent = json.ended
      ? "办件已结束于「" + (json.end_name || json.end_event || "") + "」" + (json.end_event ? " (" + json.end_event + ")" : "")
      : "";
  }

  function renderSteps(json) {
    var list = $("[data-tr-steps]");
    list.textContent = "";
    steps.forEach(function (step) { list.appendChild(el("li", { text: describe(step) })); });
    $("[data-tr-count]").textContent = String(steps.length);
    $("[data-tr-data]").textContent = JSON.stringify(json.data || {}, null, 2);
  }

  // -- the diagram --------------------------------------------------------------------------

  function showDiagram(files) {
    var path = draft.bpmnPath();
    var xml = path && files ? files[path] : null;
    var container = document.getElementById("testrun-diagram");
    if (!xml) return Promise.resolve();
    if (typeof window.BpmnJS !== "function") {
      container.textContent = "";
      container.appendChild(el("div", { className: "diagram-message", text: "流程图组件未加载 (bpmn-js 未安装: 请运行 make install)" }));
      return Promise.resolve();
    }
    if (!viewer) viewer = new window.BpmnJS({ container: container });
    if (xml === shownXml) return Promise.resolve();
    shownXml = xml;
    marked = [];
    overlayIds = [];
    // a draft without a diagram is laid out as the editor lays it out (web/modeler/src/layout.js)
    var tools = window.LianbanModeler;
    var laidOut = tools && tools.hasDiagram && !tools.hasDiagram(xml) ? tools.layout(xml) : null;
    return Promise.resolve(laidOut || xml).then(function (text) {
      return viewer.importXML(text);
    }).then(function () {
      viewer.get("canvas").zoom("fit-viewport", "auto");
      container.dataset.diagramStatus = "ready";
    }).catch(function (err) {
      container.dataset.diagramStatus = "error";
      status("流程图无法显示: " + err.message, "error");
    });
  }

  function highlight(json) {
    if (!viewer || !json) return;
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var overlays = viewer.get("overlays");
    marked.forEach(function (pair) { canvas.removeMarker(pair[0], pair[1]); });
    overlayIds.forEach(function (id) { overlays.remove(id); });
    marked = [];
    overlayIds = [];
    function mark(id, cls) {
      if (registry.get(id)) { canvas.addMarker(id, cls); marked.push([id, cls]); }
    }
    function note(id, text, cls) {
      if (!registry.get(id)) return;
      overlayIds.push(overlays.add(id, { position: { top: 0, left: 0 }, scale: false, html: el("div", { className: "tr-note " + (cls || ""), text: text }) }));
    }
    var reached = {};
    (json.completed || []).forEach(function (id) { reached[id] = true; mark(id, "tr-done"); });
    (json.active || []).forEach(function (id) { reached[id] = true; });
    (json.flows || []).forEach(function (id) { mark(id, "tr-taken"); });
    (json.ready || []).forEach(function (t) { mark(t.element, "tr-ready"); });
    (json.timers || []).forEach(function (t) { mark(t.element, "tr-ready"); note(t.element, "定时器等待中", "ready"); });
    (json.waiting || []).forEach(function (w) {
      mark(w.element, "tr-waiting");
      (w.arrived || []).forEach(function (flow) { mark(flow, "tr-arrived"); });
      note(w.element, w.inputs + " 路中已到 " + w.arrived.length + " 路");
    });
    (json.skipped_flows || []).forEach(function (id) {
      mark(id, "tr-skipped");
      var flow = registry.get(id);
      var target = flow && flow.target;
      if (target && !reached[target.id]) mark(target.id, "tr-skipped");
    });
    if (json.error && json.error.element) {
      mark(json.error.element, "tr-failed");
      note(json.error.element, json.error.message, "failed");
    }
    document.getElementById("testrun-diagram").dataset.marked = String(marked.length);
  }

  // -- saved runs (the regression tests) ----------------------------------------------------

  function loadSaved(results) {
    return request("GET", runsUrl).then(function (json) {
      renderSaved(json.runs || [], results || {});
    }).catch(function (err) {
      $("[data-tr-saved]").textContent = "回归测试读取失败: " + err.message;
    });
  }

  function renderSaved(runs, results) {
    var list = $("[data-tr-saved]");
    list.textContent = "";
    if (!runs.length) {
      list.appendChild(el("li", { className: "muted", text: "尚无回归测试" }));
      return;
    }
    runs.forEach(function (run) {
      var result = results[run.id];
      var cls = result ? (result.passed ? "pass" : "fail") : "";
      var item = el("li", { className: cls, "data-tr-run": String(run.id) });
      var load = el("button", { type: "button", text: "载入", title: "载入它的步骤, 在当前草稿上运行" });
      load.addEventListener("click", function () { play(run.steps.slice()); });
      var remove = el("button", { type: "button", className: "danger", text: "删除" });
      remove.addEventListener("click", function () {
        if (!window.confirm("删除回归测试「" + run.name + "」?")) return;
        request("DELETE", runsUrl + "/" + run.id).then(function () { loadSaved(); })
          .catch(function (err) { status(err.message, "error"); });
      });
      item.appendChild(el("span", { className: "row-actions" }, [load, remove]));
      item.appendChild(el("span", { className: "mark", text: result ? (result.passed ? "✓" : "✗") : "·" }));
      item.appendChild(el("span", { text: run.name }));
      item.appendChild(el("span", { className: "muted small", text: " (" + run.steps.length + " 步)" }));
      if (result && result.difference) {
        item.appendChild(el("div", { className: "diff", text: result.difference.message }));
      }
      list.appendChild(item);
    });
  }

  function saveRun() {
    var input = $("[data-tr-name]");
    var name = input.value.trim();
    if (!name) { status("请填写回归测试的名称", "error"); input.focus(); return; }
    draft.snapshot().then(function (files) {
      return request("POST", runsUrl, { name: name, steps: steps, files: files });
    }).then(function (saved) {
      input.value = "";
      status("已保存回归测试「" + saved.name + "」", "ok");
      return loadSaved();
    }).catch(function (err) {
      status("保存失败: " + err.message, "error");
    });
  }

  function rerunAll() {
    var summary = $("[data-tr-summary]");
    summary.textContent = "重跑中…";
    summary.className = "testrun-summary";
    draft.snapshot().then(function (files) {
      return request("POST", runsUrl + "/rerun", { files: files });
    }).then(function (json) {
      var results = {};
      json.runs.forEach(function (r) { results[r.id] = r; });
      return loadSaved(results).then(function () {
        // the summary last: once it shows, the list shows each run's result too
        summary.textContent = json.total
          ? (json.passed ? "✓ 全部通过 (" + json.total + " 个)" : "✗ " + json.failed + " / " + json.total + " 个未通过")
          : "尚无回归测试";
        summary.className = "testrun-summary " + (json.passed ? "ok" : "error");
      });
    }).catch(function (err) {
      summary.textContent = "重跑失败: " + err.message;
      summary.className = "testrun-summary error";
    });
  }

  root.querySelector("[data-tr-action=restart]").addEventListener("click", function () { play([]); });
  root.querySelector("[data-tr-action=undo]").addEventListener("click", function () {
    if (steps.length) play(steps.slice(0, -1));
  });
  root.querySelector("[data-tr-action=save-run]").addEventListener("click", saveRun);
  root.querySelector("[data-tr-action=rerun]").addEventListener("click", rerunAll);

  var opened = false;
  draft.on("tab", function (detail) {
    if (detail.tab !== "testrun") return;
    draft.ready.then(function () {
      if (viewer && shownXml) {
        // the tab was hidden: let the viewer measure its container again
        var canvas = viewer.get("canvas");
        if (canvas.resized) canvas.resized();
      }
      refresh();
      if (!opened) { opened = true; loadSaved(); }
    });
  });
  window.LianbanTestRun = {
    get steps() { return steps.slice(); },
    get answer() { return answer; },
    play: play,
    refresh: refresh,
  };
})();
