/* 表单 tab of the designer's editor: the draft's JSON Schema forms, edited field by field, with a
 * live preview rendered by the server exactly as the clerk's task page renders the form.
 *
 * Why a form editor of our own over JSON Schema (and not @bpmn-io/form-js-editor): our forms ARE
 * JSON Schema. The server checks submissions with jsonschema (engine/forms/validation.py, patterns
 * on RE2) and renders them with web/forms_render.py and the templates/macros/form.html macro. The
 * form-js schema is another format; converting to it and back has no faithful round trip for what
 * our forms use: allOf/if/then conditionals, dependentRequired, enumNames and oneOf const/title
 * options, patterns, exclusiveMinimum, x-… keys, attachments (format data-url, contentMediaType).
 * A converter would silently drop or rewrite those on save. Editing the schema itself keeps every
 * key the editor does not know untouched (load() then save() of an unchanged form gives the same
 * JSON object: tests/browser/test_form_editor.py checks it for every restaurant form), and the
 * preview is the real renderer, not an imitation.
 *
 * The model (pure, no DOM): LianbanFormModel.load(schema) -> model, .save(model) -> schema.
 * A field's model keeps its original property object (raw) and what was read from it at load
 * (orig); save() rewrites only the attributes whose value changed, so unknown keys and the
 * original spelling of untouched ones stay as they were.
 *
 * The UI reads and writes the draft through window.LianbanDraft (static/js/draft_store.js):
 * every edit writes the form file back (pretty-printed) and schedules the preview
 * (POST data-preview-url {"schema"}; "试填校验" posts the preview form's values too).
 */
(function () {
  "use strict";

  // ------------------------------------------------------------------ the model

  var KINDS = [
    ["text", "文本"],
    ["textarea", "多行文本"],
    ["integer", "整数"],
    ["number", "数字"],
    ["boolean", "是否"],
    ["date", "日期"],
    ["datetime", "日期时间"],
    ["select", "选项 (单选)"],
    ["multiselect", "多选"],
    ["email", "电子邮箱"],
    ["file", "附件"],
    ["other", "其他 (在 JSON 中编辑)"]
  ];
  var TEXTUAL = { text: 1, textarea: 1, email: 1 };
  var NUMERIC = { integer: 1, number: 1 };
  var TEXTAREA_OVER = 200; // web/forms_render.py: a longer maxLength is a textarea
  var RESERVED = ["and", "or", "not", "in", "is", "if", "else", "for", "lambda", "None", "True",
    "False", "true", "false", "null", "empty", "div", "mod", "eq", "ne", "lt", "gt", "le", "ge",
    "instanceof", "import", "class", "def", "return", "while", "with", "yield", "async", "await",
    "from", "as", "global", "nonlocal", "pass", "raise", "try", "except", "finally", "del",
    "assert", "break", "continue", "elif"];

  function clone(v) { return v === undefined ? undefined : JSON.parse(JSON.stringify(v)); }
  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }
  function isObj(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
  function has(o, k) { return Object.prototype.hasOwnProperty.call(o, k); }

  function typeOf(p) {
    var t = p.type;
    if (Array.isArray(t)) { t = t.filter(function (x) { return x !== "null"; })[0] || "string"; }
    if (t) { return String(t); }
    if (p.properties) { return "object"; }
    if (p.items) { return "array"; }
    return "string";
  }

  /* (value, label) pairs as the renderer reads them: enum + enumNames, or oneOf/anyOf const+title. */
  function optionsOf(p) {
    if (!isObj(p)) { return null; }
    if (Array.isArray(p.enum)) {
      var names = Array.isArray(p.enumNames) ? p.enumNames : [];
      return { style: "enum", list: p.enum.map(function (v, i) {
        return { value: v, label: i < names.length ? String(names[i]) : "" };
      }) };
    }
    var keys = ["oneOf", "anyOf"];
    for (var i = 0; i < keys.length; i++) {
      var alts = p[keys[i]];
      if (Array.isArray(alts) && alts.length && alts.every(function (a) { return isObj(a) && has(a, "const"); })) {
        return { style: keys[i], list: alts.map(function (a) {
          return { value: a.const, label: a.title === undefined ? "" : String(a.title) };
        }) };
      }
    }
    return null;
  }

  function isAttachment(p) {
    return p.format === "data-url" || has(p, "contentMediaType") || p.contentEncoding === "base64";
  }

  function kindOf(p) {
    if (!isObj(p)) { return "other"; }
    var t = typeOf(p);
    if (t === "array") {
      return isObj(p.items) && typeOf(p.items) === "string" && optionsOf(p.items) ? "multiselect" : "other";
    }
    if (t === "boolean") { return "boolean"; }
    if (t === "integer" || t === "number") { return optionsOf(p) ? "other" : t; }
    if (t !== "string") { return "other"; }
    if (optionsOf(p)) { return "select"; }
    if (isAttachment(p)) { return "file"; }
    if (p.format === "date") { return "date"; }
    if (p.format === "date-time") { return "datetime"; }
    if (p.format === "email") { return "email"; }
    if (p.format === "textarea" || p["x-widget"] === "textarea" || (p.maxLength || 0) > TEXTAREA_OVER) {
      return "textarea";
    }
    if (p.format) { return "other"; }
    return "text";
  }

  function num(v) { return typeof v === "number" ? v : null; }

  /* What the editor shows of one property. */
  function readField(name, p, required) {
    var kind = kindOf(p);
    var f = { name: name, kind: kind, required: required, condition: null };
    p = isObj(p) ? p : {};
    f.title = typeof p.title === "string" ? p.title : "";
    f.description = typeof p.description === "string" ? p.description : "";
    f.pattern = typeof p.pattern === "string" ? p.pattern : "";
    f.minLength = num(p.minLength);
    f.maxLength = num(p.maxLength);
    f.minimum = num(p.minimum);
    f.maximum = num(p.maximum);
    f.default = clone(p.default);
    var opts = kind === "multiselect" ? optionsOf(p.items) : optionsOf(p);
    f.options = opts ? opts.list : [];
    f.optionStyle = opts ? opts.style : "oneOf";
    return f;
  }

  /* The conditions of allOf written as the restaurant forms write them:
   * {"if": {"properties": {F: {"const": V}}, "required": [F]},
   *  "then": {"required": [X, ...], "properties": {X: {"minLength": 1}, ...}}}
   * -> [{entry index, on: F, value: V, members: [X, ...]}]. Other entries are kept as written. */
  function readConditions(schema) {
    var found = [];
    var all = Array.isArray(schema.allOf) ? schema.allOf : [];
    all.forEach(function (e, index) {
      if (!isObj(e) || !isObj(e.if) || !isObj(e.then)) { return; }
      if (Object.keys(e).some(function (k) { return k !== "if" && k !== "then"; })) { return; }
      var cond = e.if;
      if (Object.keys(cond).some(function (k) { return k !== "properties" && k !== "required"; })) { return; }
      var props = cond.properties;
      if (!isObj(props) || Object.keys(props).length !== 1) { return; }
      var on = Object.keys(props)[0];
      var test = props[on];
      if (!isObj(test) || Object.keys(test).length !== 1 || !has(test, "const")) { return; }
      if (has(cond, "required") && !same(cond.required, [on])) { return; }
      var then = e.then;
      if (Object.keys(then).some(function (k) { return k !== "required" && k !== "properties"; })) { return; }
      if (!Array.isArray(then.required) || !then.required.length) { return; }
      if (!then.required.every(function (x) { return typeof x === "string"; })) { return; }
      if (has(then, "properties") && (!isObj(then.properties) ||
          Object.keys(then.properties).some(function (k) { return then.required.indexOf(k) < 0; }))) { return; }
      found.push({ index: index, on: on, value: test.const, members: then.required.slice() });
    });
    // a field made required by two entries is beyond the simple form: those entries stay as written
    var count = {};
    found.forEach(function (c) { c.members.forEach(function (m) { count[m] = (count[m] || 0) + 1; }); });
    return found.filter(function (c) { return c.members.every(function (m) { return count[m] === 1; }); });
  }

  function load(schema) {
    schema = isObj(schema) ? schema : {};
    var required = Array.isArray(schema.required) ? schema.required : [];
    var props = isObj(schema.properties) ? schema.properties : {};
    var conditions = readConditions(schema);
    var fields = Object.keys(props).map(function (name) {
      var f = readField(name, props[name], required.indexOf(name) >= 0);
      conditions.forEach(function (c) {
        if (c.members.indexOf(name) >= 0) { f.condition = { field: c.on, value: clone(c.value) }; }
      });
      f.origName = name;
      f.raw = clone(props[name]);
      f.orig = clone(f);
      delete f.orig.raw;
      delete f.orig.orig;
      return f;
    });
    return {
      raw: clone(schema),
      title: typeof schema.title === "string" ? schema.title : "",
      description: typeof schema.description === "string" ? schema.description : "",
      fields: fields,
      conditions: conditions,
      orig: {
        title: typeof schema.title === "string" ? schema.title : "",
        description: typeof schema.description === "string" ? schema.description : ""
      }
    };
  }

  function newField(model) {
    var n = model.fields.length + 1;
    var names = model.fields.map(function (f) { return f.name; });
    while (names.indexOf("field_" + n) >= 0) { n++; }
    return {
      name: "field_" + n, kind: "text", required: false, condition: null, title: "新字段",
      description: "", pattern: "", minLength: null, maxLength: null, minimum: null,
      maximum: null, default: undefined, options: [], optionStyle: "oneOf",
      origName: null, raw: { type: "string" }, orig: { kind: "text" }
    };
  }

  var KIND_KEYS = ["type", "x-widget", "contentMediaType", "contentEncoding", "enum", "enumNames",
    "oneOf", "anyOf", "const", "items", "uniqueItems", "minItems", "maxItems"];
  var TEXT_KEYS = ["pattern", "minLength", "maxLength"];
  var NUMBER_KEYS = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"];

  function applyKind(p, kind) {
    KIND_KEYS.forEach(function (k) { delete p[k]; });
    if (["date", "date-time", "email", "data-url", "textarea", "uri"].indexOf(p.format) >= 0) { delete p.format; }
    if (!TEXTUAL[kind]) { TEXT_KEYS.forEach(function (k) { delete p[k]; }); }
    if (!NUMERIC[kind]) { NUMBER_KEYS.forEach(function (k) { delete p[k]; }); }
    delete p.default;
    var type = { integer: "integer", number: "number", boolean: "boolean", multiselect: "array" }[kind] || "string";
    // "type" first, as every form file writes it
    var rest = clone(p);
    Object.keys(p).forEach(function (k) { delete p[k]; });
    p.type = type;
    Object.keys(rest).forEach(function (k) { p[k] = rest[k]; });
    if (kind === "textarea") { p["x-widget"] = "textarea"; }
    if (kind === "date") { p.format = "date"; }
    if (kind === "datetime") { p.format = "date-time"; }
    if (kind === "email") { p.format = "email"; }
    if (kind === "file") { p.format = "data-url"; }
    if (kind === "multiselect") { p.items = { type: "string" }; p.uniqueItems = true; }
  }

  function writeOptions(target, f) {
    ["enum", "enumNames", "oneOf", "anyOf"].forEach(function (k) { delete target[k]; });
    var list = f.options;
    if (f.kind === "boolean") {
      if (!list.some(function (o) { return o.label; })) { return; }
    } else if (!list.length) {
      return;
    }
    if (f.optionStyle === "enum") {
      target.enum = list.map(function (o) { return o.value; });
      if (list.some(function (o) { return o.label; })) {
        target.enumNames = list.map(function (o) { return o.label || String(o.value); });
      }
      return;
    }
    target[f.optionStyle === "anyOf" ? "anyOf" : "oneOf"] = list.map(function (o) {
      return o.label ? { const: o.value, title: o.label } : { const: o.value };
    });
  }

  function setOrDelete(p, key, value) {
    if (value === null || value === undefined || value === "") { delete p[key]; } else { p[key] = value; }
  }

  function writeField(f) {
    var p = clone(f.raw);
    var o = f.orig || {};
    if (!isObj(p)) {
      if (f.kind === "other" && o.kind === "other") { return p; }
      p = {};
    }
    var changedKind = f.kind !== o.kind;
    if (changedKind) { applyKind(p, f.kind); }
    function changed(k) { return changedKind || !same(f[k], o[k]); }
    if (changed("title")) { setOrDelete(p, "title", f.title); }
    if (changed("description")) { setOrDelete(p, "description", f.description); }
    if (f.kind === "other") { return p; }
    if (TEXTUAL[f.kind]) {
      TEXT_KEYS.forEach(function (k) { if (changed(k)) { setOrDelete(p, k, f[k]); } });
    }
    if (NUMERIC[f.kind]) {
      ["minimum", "maximum"].forEach(function (k) { if (changed(k)) { setOrDelete(p, k, f[k]); } });
    }
    if ((f.kind === "select" || f.kind === "boolean") && (changed("options") || changed("optionStyle"))) {
      writeOptions(p, f);
    }
    if (f.kind === "multiselect" && (changed("options") || changed("optionStyle"))) {
      if (!isObj(p.items)) { p.items = { type: "string" }; }
      writeOptions(p.items, f);
    }
    if (changed("default")) { setOrDelete(p, "default", f.default); }
    return p;
  }

  function requiredOf(model) {
    var raw = model.raw.required;
    var byOrig = {};
    model.fields.forEach(function (f) { if (f.origName) { byOrig[f.origName] = f; } });
    var hadField = isObj(model.raw.properties) ? model.raw.properties : {};
    var out = [];
    (Array.isArray(raw) ? raw : []).forEach(function (name) {
      var f = byOrig[name];
      if (!f) {
        // a name no field had at load: kept (unless a field took that name since); a removed
        // field's name goes with it
        if (!has(hadField, name) && !model.fields.some(function (g) { return g.name === name; })) { out.push(name); }
      } else if (f.required && out.indexOf(f.name) < 0) {
        out.push(f.name);
      }
    });
    model.fields.forEach(function (f) {
      if (f.required && out.indexOf(f.name) < 0) { out.push(f.name); }
    });
    return out;
  }

  function conditionStrength(f) {
    if (TEXTUAL[f.kind]) { return { minLength: 1 }; }
    if (f.kind === "multiselect") { return { minItems: 1 }; }
    return null;
  }

  function allOfOf(model) {
    var raw = Array.isArray(model.raw.allOf) ? model.raw.allOf : null;
    var nameOf = {};
    model.fields.forEach(function (f) { if (f.origName) { nameOf[f.origName] = f.name; } });
    var renamed = function (n) { return has(nameOf, n) ? nameOf[n] : n; };
    // unchanged (names and conditions): the entries as written
    var now = model.fields.map(function (f) { return [f.name, f.condition && f.condition.field, f.condition && f.condition.value]; });
    var before = model.fields.map(function (f) {
      var c = f.origName ? f.orig.condition : null;
      return [f.name, c && renamed(c.field), c && c.value];
    });
    var anyRename = model.fields.some(function (f) { return f.origName && f.origName !== f.name; });
    var present = function (n) { return model.fields.some(function (f) { return f.origName === n; }); };
    var removed = model.conditions.some(function (c) {
      return !present(c.on) || c.members.some(function (m) { return !present(m); });
    });
    if (same(now, before) && !anyRename && !removed) { return raw; }
    var groups = [];
    var groupOf = {};
    model.fields.forEach(function (f) {
      if (!f.condition) { return; }
      var key = JSON.stringify([f.condition.field, f.condition.value]);
      if (!has(groupOf, key)) { groupOf[key] = { on: f.condition.field, value: f.condition.value, members: [], done: false }; groups.push(groupOf[key]); }
      groupOf[key].members.push(f);
    });
    var recognised = {};
    model.conditions.forEach(function (c) { recognised[c.index] = c; });
    var out = [];
    (raw || []).forEach(function (entry, index) {
      var c = recognised[index];
      if (!c) { out.push(clone(entry)); return; }
      var key = JSON.stringify([renamed(c.on), c.value]);
      var g = groupOf[key];
      if (!g || g.done) { return; }
      g.done = true;
      var e = clone(entry);
      e.if.properties = {};
      e.if.properties[g.on] = { const: clone(g.value) };
      if (has(e.if, "required")) { e.if.required = [g.on]; }
      var oldProps = isObj(entry.then.properties) ? entry.then.properties : {};
      e.then.required = g.members.map(function (f) { return f.name; });
      var props = {};
      g.members.forEach(function (f) {
        var kept = f.origName && has(oldProps, f.origName) ? clone(oldProps[f.origName]) : conditionStrength(f);
        if (kept) { props[f.name] = kept; }
      });
      if (has(entry.then, "properties") || Object.keys(props).length) { e.then.properties = props; }
      out.push(e);
    });
    groups.forEach(function (g) {
      if (g.done) { return; }
      var cond = { properties: {}, required: [g.on] };
      cond.properties[g.on] = { const: clone(g.value) };
      var then = { required: g.members.map(function (f) { return f.name; }) };
      var props = {};
      g.members.forEach(function (f) { var s = conditionStrength(f); if (s) { props[f.name] = s; } });
      if (Object.keys(props).length) { then.properties = props; }
      out.push({ if: cond, then: then });
    });
    return out;
  }

  function save(model) {
    var out = clone(model.raw);
    if (model.title !== model.orig.title) { setOrDelete(out, "title", model.title); }
    if (model.description !== model.orig.description) { setOrDelete(out, "description", model.description); }
    if (!has(out, "type")) { out.type = "object"; }
    var props = {};
    model.fields.forEach(function (f) { props[f.name] = writeField(f); });
    if (has(out, "properties") || model.fields.length) { out.properties = props; }
    var req = requiredOf(model);
    var rawReq = model.raw.required;
    if (!(Array.isArray(rawReq) && same(req, rawReq))) {
      if (req.length || has(out, "required")) { out.required = req; }
    }
    var all = allOfOf(model);
    if (all === null || (Array.isArray(all) && !all.length)) {
      delete out.allOf; // an empty allOf is no valid JSON Schema
    } else if (all !== model.raw.allOf) {
      out.allOf = all;
    }
    return out;
  }

  function fieldNameProblem(name, model, self) {
    if (!name) { return "字段名不能为空"; }
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) {
      return "字段名只能用英文字母、数字和下划线, 以字母开头 (条件表达式中按此名称引用)";
    }
    if (name.length > 64) { return "字段名不能超过 64 个字符"; }
    if (RESERVED.indexOf(name) >= 0) { return "“" + name + "” 是表达式的保留字, 不能用作字段名"; }
    if (model && model.fields.some(function (f) { return f !== self && f.name === name; })) {
      return "本表单已有字段 “" + name + "”";
    }
    return null;
  }

  /* Why the server would refuse a pattern (RE2: no backreferences or lookaround), or null. */
  function patternProblem(pattern) {
    if (!pattern) { return null; }
    try {
      new RegExp(pattern);
    } catch (err) {
      return "不是有效的正则表达式: " + err.message;
    }
    if (/\(\?<?[=!]/.test(pattern)) { return "服务器的正则引擎 (RE2) 不支持环视 (?= (?! (?<= (?<!"; }
    if (/\\[1-9]|\\k</.test(pattern)) { return "服务器的正则引擎 (RE2) 不支持反向引用 (\\1, \\k<…>)"; }
    return null;
  }

  window.LianbanFormModel = {
    load: load,
    save: save,
    newField: newField,
    kindOf: kindOf,
    fieldNameProblem: fieldNameProblem,
    patternProblem: patternProblem,
    KINDS: KINDS
  };

  // ------------------------------------------------------------------ the UI

  var root = document.getElementById("form-editor");
  var draft = window.LianbanDraft;
  if (!root || !draft) { return; }

  var el = function (tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) { return; }
      if (k === "text") { node.textContent = v; } else if (k === "value") { node.value = v; } else if (k === "checked") { node.checked = !!v; } else { node.setAttribute(k, v === true ? "" : v); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); } });
    return node;
  };
  var $ = function (sel) { return root.querySelector(sel); };

  var state = { path: null, model: null, view: "fields", writing: false, timer: null, seq: 0, jsonProblem: null };

  function bundleKey() {
    var b = draft.bundle && draft.bundle();
    var ed = document.getElementById("editor");
    return (b && b.key) || (ed && ed.dataset.key) || "bundle";
  }

  function formPaths() {
    var keys = draft.formKeys ? draft.formKeys() : draft.paths().filter(function (p) { return /\.json$/.test(p) && !/(^|\/)bundle\.json$/.test(p); });
    var paths = keys.map(function (k) { return draft.get(k) !== undefined && draft.get(k) !== null ? k : draft.formPath(k); });
    return paths.filter(function (p, i) { return p && paths.indexOf(p) === i; }).sort();
  }

  function formKeyOf(path) { return path.replace(/^forms\//, ""); }

  /* {form key: [{id, name}]}: the elements using each form, from the live diagram when the
   * modeler is there (its edits reach the file only on save), else from the BPMN file. */
  function usedKeys() {
    var used = {};
    var add = function (key, id, name) { (used[key] = used[key] || []).push({ id: id, name: name || "" }); };
    if (draft.modeler) {
      try {
        draft.modeler.get("elementRegistry").getAll().forEach(function (e) {
          var bo = e.businessObject;
          var key = e.type !== "label" && bo && bo.get ? bo.get("camunda:formKey") : null;
          if (key) { add(key, e.id, bo.name); }
        });
        return used;
      } catch (err) { /* still importing: the file it is */ }
    }
    var bpmn = String((draft.bpmnPath && draft.get(draft.bpmnPath())) || "");
    (bpmn.match(/<[^<>]*\bformKey="[^"]*"[^<>]*>/g) || []).forEach(function (tag) {
      var key = /\bformKey="([^"]*)"/.exec(tag)[1];
      var id = /\bid="([^"]*)"/.exec(tag);
      var name = /\bname="([^"]*)"/.exec(tag);
      add(key, id ? id[1] : "", name ? name[1] : "");
    });
    return used;
  }

  function parse(path) {
    try { return JSON.parse(draft.get(path)); } catch (err) { return null; }
  }

  function csrf() {
    if (draft.csrf) { return draft.csrf(); }
    var ed = document.getElementById("editor");
    return ed ? ed.dataset.csrf : "";
  }

  // ---- the list of forms

  function renderList() {
    var list = $("#fe-forms");
    list.textContent = "";
    var used = usedKeys();
    if (state.path && !$("#fe-main").hidden) { renderUsage(); }
    var paths = formPaths();
    paths.forEach(function (path) {
      var schema = parse(path);
      var title = schema && typeof schema.title === "string" && schema.title ? schema.title : path;
      var key = formKeyOf(path);
      var inUse = used[key] || used[path];
      list.appendChild(el("li", { class: path === state.path ? "current" : null }, [
        el("button", { type: "button", class: "fe-form link", "data-form-path": path }, [
          el("span", { class: "fe-form-title", text: title }),
          el("span", { class: "muted small fe-form-key", text: key }),
          inUse ? null : el("span", { class: "badge", text: "未被流程图使用" })
        ])
      ]));
    });
    if (!paths.length) { list.appendChild(el("li", { class: "muted", text: "本事项包还没有表单" })); }
  }

  function choose(path) {
    state.path = path;
    state.jsonProblem = null;
    reload();
    renderList();
    render();
    schedulePreview(0);
  }

  function reload() {
    var schema = state.path ? parse(state.path) : null;
    state.model = schema ? load(schema) : null;
    state.broken = state.path && !schema;
  }

  // ---- writing back

  function commit(structural) {
    if (!state.model || !state.path) { return; }
    var text = JSON.stringify(save(state.model), null, 2) + "\n";
    state.writing = true;
    try { draft.set(state.path, text); } finally { state.writing = false; }
    if (structural) { render(); }
    if (state.view === "json") { $("#fe-json").value = text; }
    renderList();
    schedulePreview();
  }

  // ---- the chosen form

  function inputRow(label, input, note) {
    return el("label", { class: "fe-prop" }, [el("span", { text: label }), input, note || null]);
  }

  function numberInput(f, key, label) {
    var input = el("input", { type: "number", step: "any", value: f[key] === null ? "" : String(f[key]), "data-prop": key });
    input.addEventListener("input", function () {
      var v = input.value.trim();
      var n = v === "" ? null : Number(v);
      if (v !== "" && !isFinite(n)) { input.setAttribute("aria-invalid", "true"); return; }
      if ((key === "minLength" || key === "maxLength") && n !== null && (n < 0 || Math.floor(n) !== n)) {
        input.setAttribute("aria-invalid", "true");
        return;
      }
      input.removeAttribute("aria-invalid");
      f[key] = n;
      commit(false);
    });
    return inputRow(label, input);
  }

  function textInput(f, key, label, attrs) {
    var input = el(attrs && attrs.multiline ? "textarea" : "input", { type: "text", value: f[key] || "", "data-prop": key, rows: attrs && attrs.multiline ? 2 : null });
    input.addEventListener("input", function () { f[key] = input.value; commit(false); });
    return inputRow(label, input);
  }

  function typedValue(f, text) {
    if (text === "") { return undefined; }
    if (f.kind === "integer") { var i = Number(text); return Math.floor(i) === i ? i : text; }
    if (f.kind === "number") { var n = Number(text); return isFinite(n) ? n : text; }
    if (f.kind === "boolean") { return text === "true"; }
    return text;
  }

  function defaultInput(f) {
    var input;
    var current = f.default === undefined ? "" : (typeof f.default === "string" ? f.default : JSON.stringify(f.default));
    if (f.kind === "boolean" || f.kind === "select") {
      var choices = f.kind === "boolean" ? [[true, "是"], [false, "否"]] : f.options.map(function (o) { return [o.value, o.label || String(o.value)]; });
      input = el("select", { "data-prop": "default" }, [el("option", { value: "", text: "(无)" })].concat(choices.map(function (c) {
        var v = typeof c[0] === "string" ? c[0] : JSON.stringify(c[0]);
        return el("option", { value: v, text: c[1], selected: v === current ? "selected" : null });
      })));
    } else if (f.kind === "multiselect" || f.kind === "file" || f.kind === "other") {
      return null;
    } else {
      var type = { date: "date", integer: "number", number: "number" }[f.kind] || "text";
      input = el("input", { type: type, step: type === "number" ? "any" : null, value: current, "data-prop": "default" });
    }
    input.addEventListener(input.tagName === "SELECT" ? "change" : "input", function () {
      f.default = typedValue(f, input.value);
      commit(false);
    });
    return inputRow("默认值", input);
  }

  function optionsEditor(f) {
    var box = el("div", { class: "fe-options" }, [el("div", { class: "fe-options-head muted small" }, [
      el("span", { text: "选项值 (保存到办件数据)" }), el("span", { text: "显示名 (窗口人员看到)" })
    ])]);
    if (f.kind === "boolean") {
      var pair = [true, false].map(function (v) {
        var found = f.options.filter(function (o) { return o.value === v; })[0];
        return { value: v, label: found ? found.label : "" };
      });
      pair.forEach(function (o, i) {
        var input = el("input", { type: "text", value: o.label, placeholder: i === 0 ? "如: 准予许可" : "如: 不予许可", "data-option-label": String(o.value) });
        input.addEventListener("input", function () {
          pair[i].label = input.value;
          f.options = pair.some(function (x) { return x.label; }) ? pair.map(function (x) { return { value: x.value, label: x.label }; }) : [];
          commit(false);
          relabelConditions(f);
        });
        box.appendChild(el("div", { class: "fe-option" }, [el("code", { text: o.value ? "true (是)" : "false (否)" }), input]));
      });
      box.appendChild(el("p", { class: "hint", text: "两个显示名都留空时显示为一个勾选框。" }));
      return box;
    }
    f.options.forEach(function (o, i) {
      var value = el("input", { type: "text", value: String(o.value), "data-option-value": String(i), "aria-label": "选项值" });
      var label = el("input", { type: "text", value: o.label, "data-option-label": String(i), "aria-label": "显示名" });
      var remove = el("button", { type: "button", class: "small", title: "删除此选项", text: "删除" });
      value.addEventListener("input", function () { o.value = value.value; commit(false); });
      label.addEventListener("input", function () { o.label = label.value; commit(false); relabelConditions(f); });
      remove.addEventListener("click", function () { f.options.splice(i, 1); commit(true); });
      box.appendChild(el("div", { class: "fe-option" }, [value, label, remove]));
    });
    var add = el("button", { type: "button", class: "small", "data-add-option": "", text: "+ 添加选项" });
    add.addEventListener("click", function () {
      var n = f.options.length + 1;
      f.options.push({ value: "option_" + n, label: "选项" + n });
      commit(true);
    });
    box.appendChild(add);
    return box;
  }

  /* The other fields' "仅当 … 为 <值>" choices show the new labels of f's options. */
  function relabelConditions(f) {
    root.querySelectorAll(".fe-condition").forEach(function (box) {
      var field = box.querySelector("[data-condition-field]");
      if (!field || field.value !== f.name) { return; }
      box.querySelectorAll("[data-condition-value] option").forEach(function (option) {
        var value = JSON.parse(option.value);
        var found = f.options.filter(function (o) { return o.value === value; })[0];
        var fallback = typeof value === "boolean" ? (value ? "是" : "否") : String(value);
        option.textContent = (found && found.label) || fallback;
      });
    });
  }

  function conditionEditor(f) {
    var model = state.model;
    var choosers = model.fields.filter(function (g) { return g !== f && (g.kind === "select" || g.kind === "boolean"); });
    var box = el("div", { class: "fe-condition" });
    var on = el("input", { type: "checkbox", checked: !!f.condition, "data-condition-on": "" });
    box.appendChild(el("label", { class: "check" }, [on, " 仅当"]));
    var field = el("select", { "data-condition-field": "", disabled: !f.condition ? "disabled" : null });
    choosers.forEach(function (g) {
      field.appendChild(el("option", { value: g.name, text: (g.title || g.name) + " (" + g.name + ")", selected: f.condition && f.condition.field === g.name ? "selected" : null }));
    });
    if (f.condition && !choosers.some(function (g) { return g.name === f.condition.field; })) {
      field.appendChild(el("option", { value: f.condition.field, text: f.condition.field, selected: "selected" }));
    }
    var value = el("select", { "data-condition-value": "", disabled: !f.condition ? "disabled" : null });
    function valuesOf(name) {
      var g = model.fields.filter(function (x) { return x.name === name; })[0];
      if (!g) { return []; }
      if (g.kind === "boolean") {
        return [true, false].map(function (v) {
          var o = g.options.filter(function (x) { return x.value === v; })[0];
          return { value: v, label: (o && o.label) || (v ? "是" : "否") };
        });
      }
      return g.options.map(function (o) { return { value: o.value, label: o.label || String(o.value) }; });
    }
    function fillValues() {
      value.textContent = "";
      var current = f.condition ? JSON.stringify(f.condition.value) : null;
      valuesOf(field.value).forEach(function (o) {
        var v = JSON.stringify(o.value);
        value.appendChild(el("option", { value: v, text: o.label, selected: v === current ? "selected" : null }));
      });
    }
    fillValues();
    function apply() {
      if (!on.checked || !field.value || !value.value) {
        f.condition = null;
      } else {
        // required only when the condition holds: not required always
        f.condition = { field: field.value, value: JSON.parse(value.value) };
        f.required = false;
      }
      commit(true);
    }
    on.addEventListener("change", function () {
      field.disabled = value.disabled = !on.checked;
      if (on.checked && !choosers.length) {
        on.checked = false;
        field.disabled = value.disabled = true;
        box.appendChild(el("p", { class: "field-error", text: "先添加一个 选项 或 是否 类型的字段, 才能按它的取值要求填写本字段" }));
        return;
      }
      apply();
    });
    field.addEventListener("change", function () { fillValues(); apply(); });
    value.addEventListener("change", apply);
    box.appendChild(field);
    box.appendChild(el("span", { text: "为" }));
    box.appendChild(value);
    // "x-show": "always" keeps the field shown whatever the condition (engine/forms/conditions.py)
    var shownAlways = f.raw && f.raw["x-show"] === "always";
    box.appendChild(el("span", { text: shownAlways ? "时必填 (始终显示)" : "时显示并必填" }));
    return box;
  }

  function fieldCard(f, index) {
    var model = state.model;
    var card = el("li", { class: "fe-field", "data-field-name": f.name });
    var name = el("input", { type: "text", value: f.name, class: "fe-name", "aria-label": "字段名", spellcheck: "false" });
    var nameError = el("p", { class: "field-error fe-name-error", hidden: "hidden" });
    name.addEventListener("input", function () {
      var problem = fieldNameProblem(name.value.trim(), model, f);
      nameError.hidden = !problem;
      nameError.textContent = problem || "";
      name.setAttribute("aria-invalid", problem ? "true" : "false");
      if (problem) { return; }
      var old = f.name;
      f.name = name.value.trim();
      model.fields.forEach(function (g) { if (g.condition && g.condition.field === old) { g.condition.field = f.name; } });
      card.setAttribute("data-field-name", f.name);
      commit(false);
    });
    var title = el("input", { type: "text", value: f.title, class: "fe-title", "aria-label": "标题", placeholder: "标题 (窗口人员看到的名称)" });
    title.addEventListener("input", function () { f.title = title.value; commit(false); });
    var kind = el("select", { class: "fe-kind", "aria-label": "类型" }, KINDS.map(function (k) {
      return el("option", { value: k[0], text: k[1], selected: k[0] === f.kind ? "selected" : null });
    }));
    kind.addEventListener("change", function () {
      f.kind = kind.value;
      if ((f.kind === "select" || f.kind === "multiselect") && !f.options.length) {
        f.options = [{ value: "option_1", label: "选项1" }, { value: "option_2", label: "选项2" }];
      }
      if (f.kind === "boolean") { f.options = f.options.filter(function (o) { return typeof o.value === "boolean"; }); }
      if (f.kind !== "boolean" && f.kind !== "select" && f.kind !== "multiselect") { f.options = []; }
      f.default = undefined;
      commit(true);
    });
    var required = el("input", { type: "checkbox", class: "fe-required", checked: f.required });
    required.addEventListener("change", function () { f.required = required.checked; commit(false); });
    var up = el("button", { type: "button", class: "small", title: "上移", "aria-label": "上移", text: "↑", disabled: index === 0 ? "disabled" : null });
    var down = el("button", { type: "button", class: "small", title: "下移", "aria-label": "下移", text: "↓", disabled: index === model.fields.length - 1 ? "disabled" : null });
    var remove = el("button", { type: "button", class: "small danger", title: "删除字段", text: "删除" });
    up.addEventListener("click", function () { model.fields.splice(index - 1, 0, model.fields.splice(index, 1)[0]); commit(true); });
    down.addEventListener("click", function () { model.fields.splice(index + 1, 0, model.fields.splice(index, 1)[0]); commit(true); });
    remove.addEventListener("click", function () {
      model.fields.splice(index, 1);
      model.fields.forEach(function (g) { if (g.condition && g.condition.field === f.name) { g.condition = null; } });
      commit(true);
    });
    card.appendChild(el("div", { class: "fe-field-head" }, [
      name, title, kind,
      el("label", { class: "check" }, [required, " 必填"]),
      el("span", { class: "spacer" }), up, down, remove
    ]));
    card.appendChild(nameError);
    var body = el("div", { class: "fe-field-body" });
    if (f.kind === "other") {
      body.appendChild(el("p", { class: "hint", text: "此字段的定义超出了本编辑器 (嵌套对象、列表等), 请在 JSON 视图中修改; 保存时原样保留。" }));
      body.appendChild(textInput(f, "title", "标题"));
    } else {
      body.appendChild(textInput(f, "description", "说明 (填写提示)", { multiline: true }));
      if (TEXTUAL[f.kind]) {
        var pattern = el("input", { type: "text", value: f.pattern, "data-prop": "pattern", spellcheck: "false", placeholder: "如: ^1[3-9][0-9]{9}$" });
        var patternError = el("p", { class: "field-error fe-pattern-error", hidden: "hidden" });
        var check = function () {
          var problem = patternProblem(pattern.value);
          patternError.hidden = !problem;
          patternError.textContent = problem || "";
          pattern.setAttribute("aria-invalid", problem ? "true" : "false");
          return problem;
        };
        check();
        pattern.addEventListener("input", function () {
          if (check()) { return; }
          f.pattern = pattern.value;
          commit(false);
        });
        body.appendChild(inputRow("格式 (正则表达式)", pattern, patternError));
        body.appendChild(numberInput(f, "minLength", "最小长度"));
        body.appendChild(numberInput(f, "maxLength", "最大长度"));
      }
      if (NUMERIC[f.kind]) {
        body.appendChild(numberInput(f, "minimum", "最小值"));
        body.appendChild(numberInput(f, "maximum", "最大值"));
      }
      if (f.kind === "select" || f.kind === "multiselect" || f.kind === "boolean") { body.appendChild(optionsEditor(f)); }
      var def = defaultInput(f);
      if (def) { body.appendChild(def); }
    }
    body.appendChild(conditionEditor(f));
    card.appendChild(body);
    return card;
  }

  function render() {
    var main = $("#fe-main");
    var empty = $("#fe-empty");
    main.hidden = !state.path;
    empty.hidden = !!state.path;
    if (!state.path) { return; }
    $("#fe-key").textContent = formKeyOf(state.path);
    renderUsage();
    var broken = !state.model;
    $("#fe-fields-view").hidden = state.view !== "fields" || broken;
    $("#fe-json-view").hidden = state.view !== "json" && !broken;
    root.querySelectorAll("[data-fe-view]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.feView === (broken ? "json" : state.view)));
    });
    if (broken || state.view === "json") {
      var area = $("#fe-json");
      if (document.activeElement !== area) { area.value = draft.get(state.path) || ""; }
      showJsonProblem();
      if (broken) { return; }
    }
    $("#fe-form-title").value = state.model.title;
    $("#fe-form-description").value = state.model.description;
    var list = $("#fe-fields");
    list.textContent = "";
    state.model.fields.forEach(function (f, i) { list.appendChild(fieldCard(f, i)); });
    if (!state.model.fields.length) { list.appendChild(el("li", { class: "muted", text: "还没有字段: 点 “添加字段”" })); }
  }

  function deleteForm() {
    var used = usedKeys();
    var users = used[formKeyOf(state.path)] || used[state.path] || [];
    var note = $("#fe-usage");
    if (users.length) {
      note.textContent = "";
      note.appendChild(el("span", { class: "field-error", text: "不能删除: 流程图中的 " + users.map(function (u) { return u.name || u.id; }).join("、") + " 还在使用此表单" }));
      return;
    }
    if (!window.confirm("从草稿中删除表单 " + formKeyOf(state.path) + "?")) { return; }
    var path = state.path;
    state.path = null;
    state.model = null;
    draft.remove(path);
    renderList();
    render();
    preview(null);
  }

  function renderUsage() {
    var box = $("#fe-usage");
    var used = usedKeys();
    var users = used[formKeyOf(state.path)] || used[state.path] || [];
    box.textContent = "";
    if (!users.length) {
      box.appendChild(el("span", { class: "badge warning", text: "流程图中还没有任务使用此表单: 在流程图中选中任务, 在属性面板的 “表单” 中选择 " + formKeyOf(state.path) }));
      return;
    }
    box.appendChild(document.createTextNode("用于: "));
    users.forEach(function (u, i) {
      if (i) { box.appendChild(document.createTextNode("、")); }
      box.appendChild(el("button", { type: "button", class: "link", "data-select-element": u.id, title: "在流程图中查看", text: (u.name || u.id) + " (" + u.id + ")" }));
    });
  }

  function showJsonProblem() {
    var box = $("#fe-json-error");
    box.hidden = !state.jsonProblem;
    box.textContent = state.jsonProblem || "";
  }

  /* Where JSON.parse failed (the browser's message does not always say): a small scanner. */
  function jsonErrorAt(t) {
    var i = 0;
    var n = t.length;
    var number = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
    function ws() { while (i < n && " \t\n\r".indexOf(t[i]) >= 0) { i++; } }
    function fail() { throw { at: i }; }
    function str() {
      i++;
      while (i < n) {
        var c = t[i];
        if (c === '"') { i++; return; }
        if (c < " ") { fail(); }
        i += c === "\\" ? 2 : 1;
      }
      fail();
    }
    function value() {
      ws();
      var c = t[i];
      if (c === "{" || c === "[") {
        var close = c === "{" ? "}" : "]";
        i++;
        ws();
        if (t[i] === close) { i++; return; }
        for (;;) {
          ws();
          if (c === "{") {
            if (t[i] !== '"') { fail(); }
            str();
            ws();
            if (t[i] !== ":") { fail(); }
            i++;
          }
          value();
          ws();
          if (t[i] === ",") { i++; continue; }
          if (t[i] === close) { i++; return; }
          fail();
        }
      }
      if (c === '"') { str(); return; }
      number.lastIndex = i;
      var m = number.exec(t);
      if (m && m[0]) { i += m[0].length; return; }
      var words = ["true", "false", "null"];
      for (var k = 0; k < words.length; k++) {
        if (t.startsWith(words[k], i)) { i += words[k].length; return; }
      }
      fail();
    }
    try {
      value();
      ws();
      if (i < n) { fail(); }
    } catch (e) {
      if (e && typeof e.at === "number") { return e.at; }
      throw e;
    }
    return null;
  }

  function jsonError(text, err) {
    var at = jsonErrorAt(text);
    if (at === null) { return "JSON 有误: " + err.message; }
    var before = text.slice(0, at).split("\n");
    return "JSON 有误 (第 " + before.length + " 行第 " + (before[before.length - 1].length + 1) + " 列): " + err.message;
  }

  // ---- the preview

  function schedulePreview(delay) {
    window.clearTimeout(state.timer);
    state.timer = window.setTimeout(function () { preview(null); }, delay === undefined ? 350 : delay);
  }

  function preview(values) {
    var box = $("#fe-preview");
    var status = $("#fe-preview-status");
    if (!state.path) { box.textContent = ""; status.textContent = ""; return; }
    var schema = parse(state.path);
    if (!schema) { status.textContent = "JSON 有误, 无法预览"; status.className = "fe-preview-status field-error"; return; }
    var body = { schema: schema };
    if (values) { body.values = values; }
    var seq = ++state.seq;
    status.textContent = "正在更新预览…";
    status.className = "fe-preview-status muted small";
    fetch(root.dataset.previewUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "text/html, application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      var isJson = (response.headers.get("Content-Type") || "").indexOf("json") >= 0;
      return (isJson ? response.json() : response.text()).then(function (data) { return [response.status, data]; });
    }).then(function (answer) {
      if (seq !== state.seq) { return; }
      var code = answer[0], data = answer[1];
      if (code === 200 && typeof data === "string") {
        box.innerHTML = data; // the server's own rendering (Jinja-escaped), as on the clerk page
        status.textContent = "";
        root.dataset.previewState = values ? "checked" : "ready";
        var firstInvalid = box.querySelector(".schema-form .invalid input, .schema-form .invalid select, .schema-form .invalid textarea");
        if (values && firstInvalid) { firstInvalid.focus(); }
        return;
      }
      root.dataset.previewState = "refused";
      status.className = "fe-preview-status field-error";
      var lines = data && data.errors ? data.errors.map(function (e) { return e.message; }) : [];
      status.textContent = ((data && data.message) || ("预览失败 (" + code + ")")) + (lines.length ? ": " + lines.join("; ") : "");
    }).catch(function (err) {
      if (seq !== state.seq) { return; }
      status.className = "fe-preview-status field-error";
      status.textContent = "预览失败: " + err.message;
    });
  }

  $("#fe-preview").addEventListener("submit", function (event) {
    event.preventDefault();
    var values = [];
    new FormData(event.target).forEach(function (v, k) { if (typeof v === "string") { values.push([k, v]); } });
    preview(values);
  });

  // ---- the controls

  root.addEventListener("click", function (event) {
    if (event.target.closest("#fe-delete")) { deleteForm(); return; }
    var element = event.target.closest("[data-select-element]");
    if (element && draft.selectElement) { draft.selectElement(element.dataset.selectElement); return; }
    var pick = event.target.closest("[data-form-path]");
    if (pick) { choose(pick.dataset.formPath); return; }
    var view = event.target.closest("[data-fe-view]");
    if (view && state.model) { state.view = view.dataset.feView; state.jsonProblem = null; render(); }
  });

  $("#fe-form-title").addEventListener("input", function (event) {
    if (state.model) { state.model.title = event.target.value; commit(false); }
  });
  $("#fe-form-description").addEventListener("input", function (event) {
    if (state.model) { state.model.description = event.target.value; commit(false); }
  });
  $("#fe-add-field").addEventListener("click", function () {
    if (!state.model) { return; }
    state.model.fields.push(newField(state.model));
    commit(true);
    var cards = root.querySelectorAll(".fe-field");
    var last = cards[cards.length - 1];
    if (last) { last.scrollIntoView({ block: "nearest" }); last.querySelector(".fe-title").select(); }
  });
  $("#fe-json").addEventListener("input", function (event) {
    var text = event.target.value;
    var parsed;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      state.jsonProblem = jsonError(text, err);
      showJsonProblem();
      return;
    }
    state.jsonProblem = isObj(parsed) ? null : "表单必须是一个 JSON 对象 ({ … })";
    showJsonProblem();
    if (state.jsonProblem) { return; }
    state.writing = true;
    try { draft.set(state.path, text); } finally { state.writing = false; }
    state.model = load(parsed);
    renderList();
    schedulePreview();
  });

  $("#fe-new").addEventListener("click", function () {
    var input = $("#fe-new-name");
    var note = $("#fe-new-note");
    var name = input.value.trim().replace(/\.json$/, "");
    note.className = "hint";
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(name)) {
      note.className = "field-error";
      note.textContent = "表单文件名只能用英文字母、数字、- 和 _, 如 review_food";
      return;
    }
    var key = bundleKey() + "/" + name + ".json";
    var path = "forms/" + key;
    if (draft.get(path) !== undefined && draft.get(path) !== null) {
      note.className = "field-error";
      note.textContent = "已有表单 " + key;
      return;
    }
    var schema = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      title: name,
      type: "object",
      properties: {},
      required: [],
      additionalProperties: true
    };
    draft.set(path, JSON.stringify(schema, null, 2) + "\n");
    input.value = "";
    note.textContent = "已新建表单 " + key + ": 在 流程图 中选中一个用户任务, 在属性面板的 “表单” 中选择它。";
    choose(path);
  });

  draft.on("change", function (event) {
    var path = event && event.detail ? event.detail.path : event && event.path;
    if (state.writing) { return; }
    if (path && path === state.path) { reload(); render(); schedulePreview(); }
    renderList();
  });

  draft.on("tab", function (detail) { if (detail && detail.tab === "forms") { renderList(); } });
  draft.on("modeler", function () { renderList(); });

  draft.ready.then(function () {
    var paths = formPaths();
    renderList();
    if (paths.length) { choose(paths[0]); } else { render(); }
  });
})();
