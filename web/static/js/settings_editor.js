/* 办件设置 tab of the designer's editor: bundle.json edited in the browser.
 *
 * name, description, issuer; items (事项: code, name, department, statutory/promised workdays,
 * the certificate: title, number field and pattern, validity years, the fields printed on it);
 * materials (code, name, required, deferrable, note); time_limits (starts_at, an element of the
 * diagram; warning_workdays; escalation_group); the 办事指南 (guide: code, implementing body, legal
 * basis rows, fee, places, phones, scope, results, conditions) with the entries a public guide
 * still lacks, and each material's sample and blank form (files of the stored version, offered
 * from the editor's files.json `attachments`). The tab edits the parsed bundle.json in place and
 * writes it back whole (LianbanDraft.setBundle), so every key it does not show stays as it was.
 * The schema these follow is engine/bundles/metadata.py; the server checks it again on 检查/保存.
 */
(function () {
  "use strict";

  var root = document.getElementById("settings-editor");
  var draft = window.LianbanDraft;
  if (!root || !draft) { return; }

  var WORKDAYS = { min: 0, max: 3650 };
  var state = { obj: {}, writing: false };
  var lastCertificate = new WeakMap(); // an item's certificate while 发证 is unticked

  function isObj(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) { return; }
      if (k === "text") { node.textContent = v; } else if (k === "value") { node.value = v; } else if (k === "checked") { node.checked = !!v; } else { node.setAttribute(k, v === true ? "" : v); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); } });
    return node;
  }

  function write() {
    var out = state.obj;
    var t = out.time_limits;
    if (!state.hadTime && isObj(t) && !Object.keys(t).length) {
      out = Object.assign({}, out); // shown on the page, written once something is set
      delete out.time_limits;
    }
    state.writing = true;
    try { draft.setBundle(out); } finally { state.writing = false; }
    renderGuideMissing();
  }

  function problemNote(input, problem, note) {
    input.setAttribute("aria-invalid", problem ? "true" : "false");
    note.hidden = !problem;
    note.textContent = problem || "";
  }

  // ---- bound inputs: each writes one key of one object

  function text(obj, key, label, opts) {
    opts = opts || {};
    var input = el(opts.multiline ? "textarea" : "input", {
      type: "text", value: typeof obj[key] === "string" ? obj[key] : "", rows: opts.multiline ? 3 : null,
      list: opts.list || null, placeholder: opts.placeholder || null, "data-key": key, spellcheck: opts.code ? "false" : null
    });
    var note = el("p", { class: "field-error", hidden: "hidden" });
    var warning = el("p", { class: "hint se-warning", hidden: "hidden" });
    var warn = function (v) {
      var said = opts.warn ? opts.warn(v) : null;
      warning.hidden = !said;
      warning.textContent = said || "";
    };
    warn(input.value);
    input.addEventListener("input", function () {
      var v = input.value;
      var problem = opts.check ? opts.check(v) : null;
      problemNote(input, problem, note);
      warn(v);
      if (problem) { return; }
      if (v === "" && !opts.keepEmpty) { delete obj[key]; } else { obj[key] = v; }
      if (opts.after) { opts.after(v); }
      write();
    });
    return el("label", { class: opts.wide ? "wide" : null }, [el("span", { text: label }), input, note, warning]);
  }

  function integer(obj, key, label, range, opts) {
    opts = opts || {};
    var current = obj[key];
    var input = el("input", {
      type: "number", step: "1", min: String(range.min), max: String(range.max), "data-key": key,
      value: typeof current === "number" ? String(current) : "", placeholder: opts.placeholder || null
    });
    var note = el("p", { class: "field-error", hidden: "hidden" });
    input.addEventListener("input", function () {
      var raw = input.value.trim();
      if (raw === "") {
        problemNote(input, null, note);
        if (opts.nullable) { obj[key] = null; } else { delete obj[key]; }
        write();
        return;
      }
      var n = Number(raw);
      var problem = Math.floor(n) !== n ? "应为整数" : (n < range.min ? "不能小于 " + range.min : (n > range.max ? "不能大于 " + range.max : null));
      problemNote(input, problem, note);
      if (problem) { return; }
      obj[key] = n;
      write();
    });
    return el("label", {}, [el("span", { text: label }), input, note]);
  }

  function flag(obj, key, label) {
    var input = el("input", { type: "checkbox", checked: obj[key] === true, "data-key": key, "aria-label": label });
    input.addEventListener("change", function () { obj[key] = input.checked; write(); });
    return input;
  }

  function moveButtons(list, index, onChange) {
    var up = el("button", { type: "button", class: "small", title: "上移", "aria-label": "上移", text: "↑", disabled: index === 0 ? "disabled" : null });
    var down = el("button", { type: "button", class: "small", title: "下移", "aria-label": "下移", text: "↓", disabled: index === list.length - 1 ? "disabled" : null });
    var remove = el("button", { type: "button", class: "small danger", text: "删除" });
    up.addEventListener("click", function () { list.splice(index - 1, 0, list.splice(index, 1)[0]); onChange(); });
    down.addEventListener("click", function () { list.splice(index + 1, 0, list.splice(index, 1)[0]); onChange(); });
    remove.addEventListener("click", function () { list.splice(index, 1); onChange(); });
    return [up, down, remove];
  }

  function unknownField(v) {
    if (!v) { return null; }
    return formFields().some(function (f) { return f.name === v; }) ? null : "草稿的表单中没有字段 “" + v + "”";
  }

  function patternCheck(v) {
    if (!v) { return null; }
    var model = window.LianbanFormModel;
    if (model) { return model.patternProblem(v); }
    try { new RegExp(v); return null; } catch (err) { return "不是有效的正则表达式: " + err.message; }
  }

  // ---- what the other tabs hold: the forms' fields, the diagram's elements

  function formFields() {
    var out = [];
    var seen = {};
    (draft.formKeys ? draft.formKeys() : []).forEach(function (key) {
      var path = draft.formPath(key);
      var schema;
      try { schema = JSON.parse(draft.get(path)); } catch (err) { return; }
      var props = isObj(schema) && isObj(schema.properties) ? schema.properties : {};
      Object.keys(props).forEach(function (name) {
        if (seen[name]) { return; }
        seen[name] = true;
        var title = isObj(props[name]) && props[name].title ? props[name].title : "";
        out.push({ name: name, label: (title ? title + " · " : "") + key });
      });
    });
    return out;
  }

  function elements() {
    var modeler = draft.modeler;
    if (modeler) {
      try {
        return modeler.get("elementRegistry").filter(function (e) {
          var bo = e.businessObject;
          return e.type !== "label" && bo && bo.$instanceOf && bo.$instanceOf("bpmn:FlowNode");
        }).map(function (e) { return { id: e.id, name: e.businessObject.name || "", type: e.type.replace(/^bpmn:/, "") }; });
      } catch (err) { /* the diagram is being imported: read the file instead */ }
    }
    var xml = draft.bpmnPath && draft.bpmnPath() ? draft.get(draft.bpmnPath()) || "" : "";
    var found = [];
    var tag = /<(?:[A-Za-z0-9_]+:)?([A-Za-z]*(?:Task|Event|Gateway|subProcess|callActivity))\b([^>]*)>/g;
    var m;
    while ((m = tag.exec(xml)) !== null) {
      var id = /\bid="([^"]*)"/.exec(m[2]);
      var name = /\bname="([^"]*)"/.exec(m[2]);
      if (id && !/Definition$/.test(m[1])) { found.push({ id: id[1], name: name ? name[1] : "", type: m[1] }); }
    }
    return found;
  }

  var TYPE_NAMES = {
    startEvent: "开始事件", endEvent: "结束事件", userTask: "用户任务", task: "任务", serviceTask: "服务任务",
    exclusiveGateway: "排他网关", parallelGateway: "并行网关", inclusiveGateway: "包容网关",
    intermediateCatchEvent: "中间事件", boundaryEvent: "边界事件", businessRuleTask: "业务规则任务",
    StartEvent: "开始事件", EndEvent: "结束事件", UserTask: "用户任务", Task: "任务",
    ExclusiveGateway: "排他网关", ParallelGateway: "并行网关", InclusiveGateway: "包容网关"
  };

  // ---- sections

  function renderBasic() {
    var box = root.querySelector("[data-se=basic]");
    box.textContent = "";
    var o = state.obj;
    box.appendChild(el("label", {}, [el("span", { text: "事项编码 (key)" }), el("input", { type: "text", value: o.key || "", readonly: "readonly", title: "事项编码在新建时确定" })]));
    box.appendChild(text(o, "name", "事项名称", { keepEmpty: true, check: function (v) { return v.trim() ? (v.length > 200 ? "不能超过 200 个字符" : null) : "事项名称不能为空"; } }));
    box.appendChild(text(o, "issuer", "发证机关", { check: function (v) { return v.length > 200 ? "不能超过 200 个字符" : null; } }));
    box.appendChild(text(o, "description", "事项说明 (办事指南中显示)", { multiline: true, wide: true }));
  }

  function certificateBox(item) {
    var cert = item.certificate;
    var box = el("div", { class: "se-cert se-grid" });
    box.appendChild(text(cert, "title", "证照名称", { keepEmpty: true, check: function (v) { return v.trim() ? null : "证照名称不能为空"; } }));
    box.appendChild(text(cert, "number_field", "证号字段 (发证表单中的字段)", { list: "se-form-fields", code: true, warn: unknownField }));
    box.appendChild(text(cert, "number_pattern", "证号格式 (正则表达式)", { code: true, check: patternCheck, placeholder: "如 JY[0-9]{14}" }));
    box.appendChild(integer(cert, "validity_years", "有效期 (年, 空为长期有效)", { min: 1, max: 100 }, { nullable: true, placeholder: "长期有效" }));
    var pairs = el("div", { class: "se-pairs" }, [el("span", { class: "muted small", text: "证照上印的内容: 栏目名称 · 取自字段" })]);
    if (!Array.isArray(cert.fields)) { cert.fields = []; }
    cert.fields.forEach(function (pair, i) {
      var label = el("input", { type: "text", value: pair[0] || "", "aria-label": "栏目名称", "data-pair-label": String(i) });
      var field = el("input", { type: "text", value: pair[1] || "", list: "se-form-fields", "aria-label": "取自字段", "data-pair-field": String(i), spellcheck: "false" });
      var remove = el("button", { type: "button", class: "small", text: "删除" });
      var mark = function () {
        var said = unknownField(field.value);
        field.title = said || "";
        field.classList.toggle("se-unknown", !!said);
      };
      mark();
      label.addEventListener("input", function () { pair[0] = label.value; write(); });
      field.addEventListener("input", function () { pair[1] = field.value; mark(); write(); });
      remove.addEventListener("click", function () { cert.fields.splice(i, 1); write(); renderItems(); });
      pairs.appendChild(el("div", { class: "se-pair" }, [label, field, remove]));
    });
    var add = el("button", { type: "button", class: "small", text: "+ 添加栏目", "data-add-pair": "" });
    add.addEventListener("click", function () { cert.fields.push(["", ""]); write(); renderItems(); });
    pairs.appendChild(el("div", {}, [add]));
    box.appendChild(pairs);
    return box;
  }

  function renderItems() {
    var box = root.querySelector("[data-se=items]");
    box.textContent = "";
    var items = Array.isArray(state.obj.items) ? state.obj.items : [];
    items.forEach(function (item, i) {
      if (!isObj(item)) { return; }
      var changed = function () { write(); renderItems(); };
      var heading = el("strong", { text: "事项 " + (i + 1) + ": " + (item.name || "") });
      var card = el("div", { class: "se-item", "data-item": String(i) }, [
        el("div", { class: "se-item-head" }, [heading, el("span", { class: "spacer" })].concat(moveButtons(items, i, changed)))
      ]);
      var grid = el("div", { class: "se-grid" });
      grid.appendChild(text(item, "code", "事项编码", { keepEmpty: true, code: true }));
      grid.appendChild(text(item, "name", "事项名称", { keepEmpty: true, after: function (v) { heading.textContent = "事项 " + (i + 1) + ": " + v; } }));
      grid.appendChild(text(item, "department", "办理部门"));
      grid.appendChild(integer(item, "statutory_workdays", "法定时限 (工作日)", WORKDAYS));
      grid.appendChild(integer(item, "promised_workdays", "承诺时限 (工作日)", WORKDAYS));
      card.appendChild(grid);
      var issues = el("input", { type: "checkbox", checked: isObj(item.certificate), "data-certificate": "" });
      issues.addEventListener("change", function () {
        if (issues.checked) {
          item.certificate = lastCertificate.get(item) || { title: item.name || "", fields: [] };
        } else {
          lastCertificate.set(item, item.certificate);
          delete item.certificate;
        }
        changed();
      });
      card.appendChild(el("label", { class: "check" }, [issues, " 办结时发放证照"]));
      if (isObj(item.certificate)) { card.appendChild(certificateBox(item)); }
      box.appendChild(card);
    });
    if (!items.length) { box.appendChild(el("p", { class: "muted", text: "还没有事项。" })); }
  }

  function renderMaterials() {
    var body = root.querySelector("[data-se=materials]");
    body.textContent = "";
    var list = Array.isArray(state.obj.materials) ? state.obj.materials : [];
    list.forEach(function (m, i) {
      if (!isObj(m)) { return; }
      var changed = function () { write(); renderMaterials(); };
      var cell = function (key, label, code) {
        var input = el("input", { type: "text", value: typeof m[key] === "string" ? m[key] : "", "aria-label": label, "data-key": key, spellcheck: code ? "false" : null });
        input.addEventListener("input", function () {
          var v = input.value;
          if (v === "" && key === "note") { delete m[key]; } else { m[key] = v; }
          input.setAttribute("aria-invalid", (key !== "note" && !v.trim()) ? "true" : "false");
          write();
        });
        return el("td", {}, [input]);
      };
      body.appendChild(el("tr", { "data-material": String(i) }, [
        cell("code", "编码", true), cell("name", "材料名称"),
        el("td", { class: "narrow" }, [flag(m, "required", "必交")]),
        el("td", { class: "narrow" }, [flag(m, "deferrable", "可容缺")]),
        cell("note", "说明"),
        el("td", { class: "se-files" }, [fileInput(m, "sample", "样表"), fileInput(m, "blank_form", "空白表格")]),
        el("td", { class: "narrow" }, moveButtons(list, i, changed))
      ]));
    });
    if (!list.length) { body.appendChild(el("tr", {}, [el("td", { colspan: "7", class: "muted", text: "还没有材料。" })])); }
    var codes = {};
    list.forEach(function (m) { if (isObj(m) && m.code) { codes[m.code] = (codes[m.code] || 0) + 1; } });
    body.querySelectorAll("input[data-key=code]").forEach(function (input) {
      if (codes[input.value] > 1) { input.setAttribute("aria-invalid", "true"); input.title = "材料编码重复"; }
    });
  }

  function renderTime() {
    var box = root.querySelector("[data-se=time]");
    box.textContent = "";
    if (!isObj(state.obj.time_limits)) { state.obj.time_limits = {}; }
    var t = state.obj.time_limits;
    var select = el("select", { "data-key": "starts_at" }, [el("option", { value: "", text: "— 申请提交时开始计时 —" })]);
    var found = elements();
    var known = false;
    found.forEach(function (e) {
      var selected = e.id === t.starts_at;
      known = known || selected;
      var kind = TYPE_NAMES[e.type] || e.type;
      select.appendChild(el("option", { value: e.id, text: (e.name || e.id) + " (" + kind + " " + e.id + ")", selected: selected ? "selected" : null }));
    });
    if (t.starts_at && !known) {
      select.appendChild(el("option", { value: t.starts_at, text: t.starts_at + " (流程图中没有此元素)", selected: "selected" }));
    }
    select.addEventListener("change", function () {
      if (select.value) { t.starts_at = select.value; } else { delete t.starts_at; }
      write();
    });
    box.appendChild(el("label", {}, [el("span", { text: "受理环节 (此元素完成时开始计时)" }), select]));
    box.appendChild(integer(t, "warning_workdays", "到期前几个工作日预警", WORKDAYS, { placeholder: "默认" }));
    box.appendChild(text(t, "escalation_group", "督办组 (超期时收到督办任务)", { code: true, check: function (v) { return v !== "" && !v.trim() ? "组名不能只有空格" : null; } }));
    box.appendChild(integer(t, "statutory_workdays", "法定时限 (工作日, 空则取各事项最长)", WORKDAYS));
    box.appendChild(integer(t, "promised_workdays", "承诺时限 (工作日, 空则取各事项最长)", WORKDAYS));
  }

  // ---- the materials' files (样表, 空白表格): paths beside bundle.json, among the bundle's files

  var FILE_TYPES = /\.(pdf|png|jpe?g|docx|xlsx)$/i;
  var guideFiles = []; // the stored version's files a material may name (not text: not in the draft)

  function filePathProblem(v) {
    if (!v) { return null; }
    if (/^\//.test(v) || v.indexOf("\\") >= 0 || /^[A-Za-z]:/.test(v)) { return "应为事项包内的相对路径"; }
    if (v.split("/").some(function (p) { return p === ".." || p === "." || p === ""; })) { return "不能包含 '..'、'.' 或空的路径段"; }
    if (!FILE_TYPES.test(v)) { return "只能是 PDF、PNG、JPEG、DOCX 或 XLSX 文件"; }
    if (guideFiles.length && guideFiles.indexOf(v) < 0) { return "事项包中没有这个文件 (请随 .zip 上传)"; }
    return null;
  }

  function fileInput(m, key, label) {
    var input = el("input", { type: "text", value: typeof m[key] === "string" ? m[key] : "", list: "se-guide-files", "aria-label": label, placeholder: label, "data-file-key": key, spellcheck: "false" });
    var mark = function () {
      var said = filePathProblem(input.value);
      input.setAttribute("aria-invalid", said ? "true" : "false");
      input.title = said || "";
    };
    mark();
    input.addEventListener("input", function () {
      var v = input.value.trim();
      if (v) { m[key] = v; } else { delete m[key]; }
      mark();
      write();
      renderGuideMissing();
    });
    return input;
  }

  function loadGuideFiles() {
    var editor = document.getElementById("editor");
    var url = editor && editor.dataset.filesUrl;
    if (!url || !window.fetch) { return; }
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (json) {
        var meta = (draft.paths ? draft.paths() : []).filter(function (p) { return /(^|\/)bundle\.json$/.test(p); })
          .sort(function (a, b) { return a.length - b.length; })[0] || "bundle.json";
        var folder = meta.indexOf("/") >= 0 ? meta.slice(0, meta.lastIndexOf("/") + 1) : "";
        guideFiles = (json.attachments || []).map(function (a) { return a.path; })
          .filter(function (p) { return p.indexOf(folder) === 0; })
          .map(function (p) { return p.slice(folder.length); });
        var list = root.querySelector("#se-guide-files");
        list.textContent = "";
        guideFiles.forEach(function (p) { list.appendChild(el("option", { value: p })); });
        root.dataset.guideFiles = String(guideFiles.length);
        renderMaterials();
      })
      .catch(function () { /* the pickers stay free text */ });
  }

  // ---- 办事指南 (guide): the 事项清单 facts the public guide page shows

  // What the server requires of a guide (engine/bundles/guide.py missing_entries), said the same way.
  function stated(v) { return typeof v === "string" && v.trim() !== ""; }

  function hasLimit(o, kind) {
    var t = isObj(o.time_limits) ? o.time_limits : {};
    if (typeof t[kind + "_workdays"] === "number") { return true; }
    var items = (Array.isArray(o.items) ? o.items : []).filter(isObj);
    var keys = [kind + "_workdays"].concat(kind === "promised" ? ["promised_hours"] : []);
    return items.length > 0 && items.every(function (i) { return keys.some(function (k) { return typeof i[k] === "number"; }); });
  }

  function guideMissing(o) {
    var g = isObj(o.guide) ? o.guide : {};
    var phones = isObj(g.phones) ? g.phones : {};
    var found = [];
    var need = function (ok, label, where) { if (!ok) { found.push("办事指南缺少 " + label + " (" + where + ")"); } };
    need(stated(o.name), "事项名称", "name");
    need(stated(g.code), "事项编码", "guide.code");
    need(stated(g.implementing_body), "实施主体", "guide.implementing_body");
    need(stated(g.fee), "收费标准", "guide.fee");
    need(stated(phones.consult), "咨询电话", "guide.phones.consult");
    need(stated(phones.complaint), "投诉电话", "guide.phones.complaint");
    need(stated(g.scope), "适用范围", "guide.scope");
    need((Array.isArray(g.legal_basis) ? g.legal_basis : []).some(function (b) { return isObj(b) && stated(b.law) && stated(b.articles); }), "设定依据 (至少一部法律法规及其条款)", "guide.legal_basis");
    need((Array.isArray(g.places) ? g.places : []).some(function (p) { return isObj(p) && stated(p.address) && stated(p.hours); }), "办理地点和办公时间 (至少一处, 含地址和办公时间)", "guide.places");
    need((Array.isArray(g.results) ? g.results : []).some(function (r) { return isObj(r) && stated(r.name); }), "办理结果 (至少一项证照或批文)", "guide.results");
    need((Array.isArray(o.materials) ? o.materials : []).some(isObj), "申请材料 (至少一项)", "materials");
    need(hasLimit(o, "statutory") || stated(g.statutory_limit_note), "法定时限", "time_limits.statutory_workdays、各事项的 statutory_workdays 或 guide.statutory_limit_note");
    need(hasLimit(o, "promised"), "承诺时限", "time_limits.promised_workdays 或各事项的 promised_workdays/promised_hours");
    return found;
  }

  function renderGuideMissing() {
    var box = root.querySelector("[data-se=guide-missing]");
    if (!box) { return; }
    box.textContent = "";
    var found = isObj(state.obj.guide) ? guideMissing(state.obj) : [];
    box.hidden = !found.length;
    if (!found.length) { return; }
    box.appendChild(el("p", { text: "发布前须补齐 (否则保存时会被拒绝):" }));
    box.appendChild(el("ul", {}, found.map(function (m) { return el("li", { text: m }); })));
  }

  // A list of objects (legal basis, places, results) or strings (conditions), rows added and removed.
  function rowList(g, key, title, fields, blank) {
    if (!Array.isArray(g[key])) { g[key] = []; }
    var list = g[key];
    var box = el("div", { class: "se-rows", "data-guide-list": key }, [el("h3", { text: title })]);
    list.forEach(function (row, i) {
      var changed = function () { write(); renderGuide(); };
      var cells = fields.map(function (f) {
        var holder = typeof row === "string" ? null : row;
        var input = el("input", { type: "text", value: holder ? (typeof holder[f.key] === "string" ? holder[f.key] : "") : row, "aria-label": f.label, placeholder: f.label, "data-key": f.key || "text", list: f.list || null });
        input.addEventListener("input", function () {
          var v = input.value;
          if (!holder) { list[i] = v; } else if (v === "") { delete holder[f.key]; } else { holder[f.key] = v; }
          write();
          renderGuideMissing();
        });
        return input;
      });
      box.appendChild(el("div", { class: "se-row se-row-" + fields.length, "data-row": String(i) }, cells.concat(moveButtons(list, i, changed))));
    });
    var add = el("button", { type: "button", class: "small", text: "+ 添加" + title, "data-guide-add": key });
    add.addEventListener("click", function () {
      list.push(typeof blank === "string" ? blank : JSON.parse(JSON.stringify(blank)));
      write();
      renderGuide();
      var rows = root.querySelectorAll("[data-guide-list=" + key + "] [data-row] input");
      if (rows.length) { rows[rows.length - fields.length].focus(); }
    });
    box.appendChild(add);
    return box;
  }

  function renderGuide() {
    var box = root.querySelector("[data-se=guide]");
    box.textContent = "";
    var codes = root.querySelector("#se-item-codes");
    codes.textContent = "";
    (Array.isArray(state.obj.items) ? state.obj.items : []).forEach(function (i) {
      if (isObj(i) && i.code) { codes.appendChild(el("option", { value: i.code, label: i.name || i.code })); }
    });
    if (!isObj(state.obj.guide)) {
      box.appendChild(el("p", { class: "hint", text: "没有办事指南: 按内部或测试流程处理 (上传时会提醒)。对外办理的事项请填写办事指南, 公开的办事指南页将显示这些信息。" }));
      var start = el("button", { type: "button", text: "+ 填写办事指南", "data-guide-start": "" });
      start.addEventListener("click", function () {
        state.obj.guide = { legal_basis: [{}], fee: "不收费", places: [{}], phones: { complaint: "12345" }, results: [{}], conditions: [] };
        write();
        renderGuide();
      });
      box.appendChild(start);
      return;
    }
    var g = state.obj.guide;
    if (!isObj(g.phones)) { g.phones = {}; }
    box.appendChild(el("div", { class: "se-guide-missing", "data-se": "guide-missing", role: "status", hidden: "hidden" }));
    var grid = el("div", { class: "se-grid" });
    var after = function () { renderGuideMissing(); };
    grid.appendChild(text(g, "code", "事项编码 (事项清单中的编码)", { code: true, after: after }));
    grid.appendChild(text(g, "fee", "收费标准", { placeholder: "如 不收费", after: after }));
    grid.appendChild(text(g.phones, "consult", "咨询电话", { after: after }));
    grid.appendChild(text(g.phones, "complaint", "投诉电话", { placeholder: "如 12345", after: after }));
    grid.appendChild(text(g, "implementing_body", "实施主体", { wide: true, after: after }));
    grid.appendChild(text(g, "scope", "适用范围", { multiline: true, wide: true, after: after }));
    grid.appendChild(text(g, "statutory_limit_note", "法定时限的说明 (法律法规未规定时限时填写)", { wide: true, after: after }));
    box.appendChild(grid);
    box.appendChild(rowList(g, "legal_basis", "设定依据", [
      { key: "law", label: "法律法规名称, 如 《中华人民共和国行政许可法》" }, { key: "articles", label: "条款, 如 第三十二条" },
      { key: "item", label: "适用事项编码 (空为全部)", list: "se-item-codes" }], {}));
    box.appendChild(rowList(g, "places", "办理地点", [
      { key: "name", label: "名称 (窗口)" }, { key: "address", label: "地址" }, { key: "hours", label: "办公时间" }], {}));
    box.appendChild(rowList(g, "results", "办理结果", [
      { key: "name", label: "结果 (证照、批文) 名称" }, { key: "delivery", label: "送达方式, 如 窗口领取或免费邮寄" }], {}));
    box.appendChild(rowList(g, "conditions", "受理条件", [{ key: null, label: "一条受理条件" }], ""));
    renderGuideMissing();
  }

  function renderFieldList() {
    var list = root.querySelector("#se-form-fields");
    list.textContent = "";
    formFields().forEach(function (f) { list.appendChild(el("option", { value: f.name, label: f.label })); });
  }

  function render() {
    var parsed = draft.bundle();
    state.obj = isObj(parsed) ? parsed : {};
    state.hadTime = state.obj.time_limits !== undefined;
    renderFieldList();
    renderBasic();
    renderItems();
    renderMaterials();
    renderTime();
    renderGuide();
    root.dataset.ready = "true";
  }

  root.addEventListener("click", function (event) {
    var add = event.target.closest("[data-se-add]");
    if (!add) { return; }
    if (add.dataset.seAdd === "item") {
      if (!Array.isArray(state.obj.items)) { state.obj.items = []; }
      var n = state.obj.items.length + 1;
      state.obj.items.push({ code: "item_" + n, name: "" });
      write();
      renderItems();
      var added = root.querySelector("[data-item='" + (n - 1) + "'] input[data-key=name]");
      if (added) { added.focus(); }
    } else {
      if (!Array.isArray(state.obj.materials)) { state.obj.materials = []; }
      var m = state.obj.materials.length + 1;
      state.obj.materials.push({ code: "material_" + m, name: "", required: true, deferrable: false });
      write();
      renderMaterials();
      var row = root.querySelector("[data-material='" + (m - 1) + "'] input[data-key=name]");
      if (row) { row.focus(); }
    }
  });

  draft.on("change", function (detail) {
    if (state.writing || !detail) { return; }
    if (detail.path === "bundle.json") { render(); } else if (/\.json$/.test(detail.path)) { renderFieldList(); }
  });
  draft.on("tab", function (detail) {
    if (detail && detail.tab === "settings") { renderFieldList(); renderTime(); }
  });
  draft.on("modeler", function () { renderTime(); });
  draft.ready.then(function () { render(); loadGuideFiles(); });
})();
