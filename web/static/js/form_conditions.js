/* Forms that follow the decision: fields the form's own JSON Schema conditions control
 * (if/then/else, dependentRequired, dependentSchemas; engine/forms/conditions.py).
 *
 * A `.schema-form[data-conditions]` carries {"types": {field: {type, items}},
 * "controlled": {field: {"gates": [{"if": schema, "matches": bool} | {"filled": field}],
 * "always": bool}}}. A controlled field applies while one of its gates holds: it is shown,
 * enabled and starred as required; otherwise it is hidden and disabled (so it is not posted),
 * unless "always" (then only its star follows the condition). The server renders the first
 * state and decides the same way on submit; this script only keeps the page in step as the
 * clerk fills it. Forms inserted later (the designer's live preview) are picked up too.
 * No inline script (CSP): everything hangs on data- attributes.
 */
(function () {
  "use strict";
  if (window.lianbanFormConditions) { return; }

  function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }

  function equal(a, b) {
    if (a === b) { return true; }
    if (Array.isArray(a) && Array.isArray(b)) {
      return a.length === b.length && a.every(function (x, i) { return equal(x, b[i]); });
    }
    if (isObject(a) && isObject(b)) {
      var ka = Object.keys(a), kb = Object.keys(b);
      return ka.length === kb.length && ka.every(function (k) { return equal(a[k], b[k]); });
    }
    return false;
  }

  function typeOk(t, v) {
    if (Array.isArray(t)) { return t.some(function (x) { return typeOk(x, v); }); }
    switch (t) {
      case "string": return typeof v === "string";
      case "boolean": return typeof v === "boolean";
      case "number": return typeof v === "number";
      case "integer": return typeof v === "number" && Math.floor(v) === v;
      case "array": return Array.isArray(v);
      case "object": return isObject(v);
      case "null": return v === null;
      default: return true;
    }
  }

  // The subset of JSON Schema the server lets reach the page (conditions.py _CLIENT_KEYWORDS).
  function matches(schema, v) {
    if (schema === true) { return true; }
    if (schema === false) { return false; }
    if (!isObject(schema)) { return true; }
    if ("const" in schema && !equal(schema["const"], v)) { return false; }
    if (Array.isArray(schema["enum"]) && !schema["enum"].some(function (e) { return equal(e, v); })) { return false; }
    if ("type" in schema && !typeOk(schema.type, v)) { return false; }
    if (Array.isArray(schema.allOf) && !schema.allOf.every(function (s) { return matches(s, v); })) { return false; }
    if (Array.isArray(schema.anyOf) && !schema.anyOf.some(function (s) { return matches(s, v); })) { return false; }
    if (Array.isArray(schema.oneOf) && schema.oneOf.filter(function (s) { return matches(s, v); }).length !== 1) { return false; }
    if ("not" in schema && matches(schema.not, v)) { return false; }
    if (isObject(v)) {
      if (Array.isArray(schema.required) && !schema.required.every(function (k) { return k in v; })) { return false; }
      if (isObject(schema.properties)) {
        for (var k in schema.properties) {
          if (k in v && !matches(schema.properties[k], v[k])) { return false; }
        }
      }
    }
    if (typeof v === "number") {
      if ("minimum" in schema && v < schema.minimum) { return false; }
      if ("maximum" in schema && v > schema.maximum) { return false; }
      if ("exclusiveMinimum" in schema && v <= schema.exclusiveMinimum) { return false; }
      if ("exclusiveMaximum" in schema && v >= schema.exclusiveMaximum) { return false; }
    }
    if (typeof v === "string") {
      var n = Array.from(v).length;
      if ("minLength" in schema && n < schema.minLength) { return false; }
      if ("maxLength" in schema && n > schema.maxLength) { return false; }
    }
    if (Array.isArray(v)) {
      if ("minItems" in schema && v.length < schema.minItems) { return false; }
      if ("maxItems" in schema && v.length > schema.maxItems) { return false; }
      if ("contains" in schema && !v.some(function (x) { return matches(schema.contains, x); })) { return false; }
    }
    return true;
  }

  // A posted string as the JSON value the server's parse_form makes of it.
  function typed(raw, type) {
    if (type === "boolean") {
      if (raw === "true" || raw === "on" || raw === "1") { return true; }
      if (raw === "false" || raw === "0") { return false; }
      return raw;
    }
    if (type === "integer" || type === "number") {
      var n = Number(raw);
      return raw.trim() !== "" && isFinite(n) ? n : raw;
    }
    return raw;
  }

  function inputsOf(form, name) {
    return Array.prototype.filter.call(form.querySelectorAll("input, select, textarea"), function (el) {
      return el.name === name && !el.disabled;
    });
  }

  // The form's current values, typed by its schema; an empty input is absent, as on the server.
  function valuesOf(box, types) {
    var form = box.closest("form") || box;
    var data = {};
    Object.keys(types).forEach(function (name) {
      var t = types[name] || {};
      var els = inputsOf(form, name);
      if (!els.length) { return; }
      if (t.type === "array") {
        var list = [];
        els.forEach(function (el) {
          if (el.type === "checkbox") {
            if (el.checked) { list.push(typed(el.value, t.items)); }
          } else {
            el.value.split(/\r?\n/).forEach(function (line) {
              if (line.trim()) { list.push(typed(line.trim(), t.items)); }
            });
          }
        });
        if (list.length) { data[name] = list; }
        return;
      }
      var raw = null;
      els.forEach(function (el) {
        if (el.type === "radio") {
          if (el.checked) { raw = el.value; }
        } else if (el.type === "checkbox") {
          raw = el.checked ? "true" : "false";
        } else if (el.type === "file") {
          if (el.files && el.files.length) { raw = el.value; }
        } else if (raw === null || el.type !== "hidden") {
          raw = el.value;
        }
      });
      if (raw !== null && String(raw).trim() !== "") { data[name] = typed(String(raw).trim(), t.type); }
    });
    return data;
  }

  function filled(v) {
    return v !== undefined && v !== null && v !== "" && !(Array.isArray(v) && !v.length);
  }

  function holds(gate, data) {
    if (gate.filled) { return filled(data[gate.filled]); }
    return matches(gate["if"], data) === (gate.matches !== false);
  }

  function wrapperOf(box, name) {
    var found = null;
    Array.prototype.forEach.call(box.querySelectorAll("[data-field]"), function (el) {
      if (!found && el.getAttribute("data-field") === name) { found = el; }
    });
    return found;
  }

  function setField(wrapper, active, always) {
    var show = active || always;
    wrapper.hidden = !show;
    wrapper.classList.toggle("conditional-on", active);
    Array.prototype.forEach.call(wrapper.querySelectorAll("input, select, textarea"), function (el) {
      el.disabled = !show;
      if (el.type !== "hidden") {
        if (active) { el.setAttribute("aria-required", "true"); } else { el.removeAttribute("aria-required"); }
      }
    });
    if (wrapper.tagName === "FIELDSET") {
      wrapper.disabled = !show;
      if (active) { wrapper.setAttribute("aria-required", "true"); } else { wrapper.removeAttribute("aria-required"); }
    }
    var label = wrapper.querySelector(":scope > legend, :scope > label");
    if (label) { label.classList.toggle("required", active); }
  }

  function update(box) {
    var rules = box._conditions;
    var data = valuesOf(box, rules.types || {});
    Object.keys(rules.controlled || {}).forEach(function (name) {
      var rule = rules.controlled[name];
      var wrapper = wrapperOf(box, name);
      if (!wrapper) { return; }
      var active = (rule.gates || []).some(function (g) { return holds(g, data); });
      setField(wrapper, active, !!rule.always);
    });
  }

  function attach(box) {
    if (box._conditions !== undefined) { return; }
    try {
      box._conditions = JSON.parse(box.getAttribute("data-conditions") || "{}");
    } catch (e) {
      box._conditions = {};
      return;
    }
    box.setAttribute("data-conditions-ready", "");
    var refresh = function () { update(box); };
    box.addEventListener("change", refresh);
    box.addEventListener("input", refresh);
    update(box);
  }

  function scan(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(".schema-form[data-conditions]"), attach);
  }

  window.lianbanFormConditions = { scan: scan, matches: matches };
  scan(document);
  if (window.MutationObserver) {
    // the designer's live preview is re-rendered into #fe-preview; elsewhere, the whole page
    var host = document.getElementById("fe-preview") || document.body;
    new MutationObserver(function () { scan(host); }).observe(host, { childList: true, subtree: true });
  }
})();
