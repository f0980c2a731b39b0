/* window.LianbanDraft: the files of the bundle being edited on the designer's editor page, shared
   by its tabs (流程图: static/build/modeler.js; 表单 and 办件设置: form_editor.js and
   settings_editor.js; 试运行: test_run.js). Loads the files from #editor's data-files-url; checks
   and saves them (a new draft version) through data-validate-url and data-save-url with the
   session's CSRF token. The interface is described in docs (editor.md): get/set/remove/paths,
   bpmnPath, bundle/setBundle, formPath/formKeys, registerFlusher/snapshot, validate/save,
   showProblems, on/emit, selectElement, csrf. Events are CustomEvents "draft:<name>" on #editor. */
(function () {
  "use strict";
  var root = document.getElementById("editor");
  if (!root) return;
  var has = Object.prototype.hasOwnProperty;
  var files = {};
  var mainBpmn = null;
  var flushers = [];
  var dirty = false;
  var problems = [];
  var resolveReady, rejectReady;

  function emit(name, detail) {
    root.dispatchEvent(new CustomEvent("draft:" + name, { detail: detail || {} }));
  }

  function on(name, fn) {
    var listener = function (event) { fn(event.detail, event); };
    root.addEventListener("draft:" + name, listener);
    return function () { root.removeEventListener("draft:" + name, listener); };
  }

  function csrf() {
    if (root.dataset.csrf) return root.dataset.csrf;
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function markDirty() {
    dirty = true;
    root.dataset.dirty = "true";
  }

  function set(path, text) {
    files[path] = String(text);
    markDirty();
    emit("change", { path: path });
  }

  function remove(path) {
    if (!has.call(files, path)) return;
    delete files[path];
    markDirty();
    emit("change", { path: path, removed: true });
  }

  function isBpmn(path) {
    var lower = path.toLowerCase();
    return lower.slice(-5) === ".bpmn" || lower.slice(-10) === ".bpmn20.xml";
  }

  function bundle() {
    if (!has.call(files, "bundle.json")) return null;
    try {
      return JSON.parse(files["bundle.json"]);
    } catch (err) {
      return null;
    }
  }

  function setBundle(obj) {
    set("bundle.json", JSON.stringify(obj, null, 2) + "\n");
  }

  function isForm(path) {
    return path.slice(-5) === ".json" && path.split("/").pop() !== "bundle.json";
  }

  // The file holding form `key`, found as the server finds it (engine/bundles/compiler.py).
  function formPath(key) {
    if (has.call(files, key) && isForm(key)) return key;
    if (has.call(files, "forms/" + key)) return "forms/" + key;
    var suffix = "/" + key;
    var found = Object.keys(files).sort().filter(function (p) {
      return p.slice(-suffix.length) === suffix;
    });
    return found.length ? found[0] : "forms/" + key;
  }

  function formKeys() {
    return Object.keys(files).filter(isForm).sort().map(function (p) {
      return p.indexOf("forms/") === 0 ? p.slice("forms/".length) : p;
    });
  }

  function snapshot() {
    return Promise.all(flushers.map(function (fn) { return Promise.resolve().then(fn); }))
      .then(function () { return Object.assign({}, files); });
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json" },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.text().then(function (text) {
        var json;
        try {
          json = text ? JSON.parse(text) : {};
        } catch (err) {
          json = { message: "服务器返回了无法识别的内容 (HTTP " + response.status + ")", errors: [] };
        }
        json.status = response.status;
        return json;
      });
    });
  }

  function setBusy(busy, what) {
    root.dataset.busy = busy ? what : "";
    root.querySelectorAll("[data-editor-action]").forEach(function (b) { b.disabled = !!busy; });
  }

  function validate() {
    setBusy(true, "validate");
    status("正在检查…", "");
    return snapshot().then(function (snap) {
      return post(root.dataset.validateUrl, { files: snap });
    }).then(function (json) {
      var list = (json.errors || []).concat(json.warnings || []);
      showProblems(list);
      if (json.status !== 200) {
        status(json.message || "检查失败", "error");
      } else if (json.ok) {
        status(json.warnings && json.warnings.length
          ? "检查通过, 有 " + json.warnings.length + " 条提醒" : "检查通过: 可以保存为草稿", "ok");
      } else {
        status("发现 " + (json.errors || []).length + " 个问题: 保存前请先修改", "error");
      }
      return json;
    }).finally(function () { setBusy(false); });
  }

  // replace: confirms a new version that drops what the latest has (the server's 409 lists it).
  function save(options) {
    var replace = !!(options && options.replace);
    setBusy(true, "save");
    status("正在保存…", "");
    var base = root.dataset.key && root.dataset.baseVersion
      ? { key: root.dataset.key, version: Number(root.dataset.baseVersion) } : null;
    return snapshot().then(function (snap) {
      return post(root.dataset.saveUrl, { files: snap, base: base, replace: replace });
    }).then(function (json) {
      if (json.status === 409 && !replace) {
        var lost = (json.errors || []).map(function (p) { return "· " + p.message; }).join("\n");
        setBusy(false);
        showProblems((json.errors || []).map(function (p) {
          return Object.assign({}, p, { severity: "warning" });
        }));
        if (window.confirm((json.message || "新版本将不再包含上一版的部分内容") + "\n\n" + lost +
                           "\n\n确定仍然保存为新的草稿版本吗?")) {
          return save({ replace: true });
        }
        status("没有保存: 新版本会丢掉上一版的部分内容 (见下方列表)", "error");
        return json;
      }
      if (json.status === 201 && json.url) {
        dirty = false;
        root.dataset.dirty = "false";
        status("已保存为第 " + json.version + " 版草稿, 正在打开…", "ok");
        emit("saved", json);
        window.location.assign(json.url);
        return json;
      }
      showProblems(json.errors && json.errors.length ? json.errors
        : [{ message: json.message || json.error || "保存失败", element: null, severity: "error" }]);
      status((json.message || "保存失败") + " (没有保存任何内容)", "error");
      setBusy(false);
      return json;
    }, function (err) {
      setBusy(false);
      status("保存失败: " + err.message, "error");
      throw err;
    });
  }

  function status(text, kind) {
    var el = document.getElementById("editor-status");
    if (!el) return;
    el.textContent = text;
    el.className = "editor-status" + (kind ? " " + kind : "");
  }

  // The footer's list of problems: each one that names an element selects it on the diagram.
  function renderProblems(list) {
    var box = document.getElementById("editor-problems");
    if (!box) return;
    var ol = box.querySelector("ol");
    ol.textContent = "";
    box.hidden = list.length === 0;
    var count = box.querySelector("[data-problem-count]");
    if (count) count.textContent = String(list.length);
    list.forEach(function (p) {
      var li = document.createElement("li");
      li.className = "problem " + (p.severity === "warning" ? "warning" : "error");
      li.dataset.element = p.element || "";
      li.dataset.file = p.file || "";
      var badge = document.createElement("span");
      badge.className = "badge " + (p.severity === "warning" ? "warning" : "overdue");
      badge.textContent = p.severity === "warning" ? "提醒" : "错误";
      var msg = document.createElement("span");
      msg.className = "problem-message";
      msg.textContent = p.message;
      li.appendChild(badge);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(msg);
      var where = [];
      if (p.element) where.push("元素 " + p.element);
      if (p.file) where.push("文件 " + p.file);
      if (p.line) where.push("第 " + p.line + " 行");
      if (where.length) {
        var w = document.createElement("span");
        w.className = "problem-where muted small";
        w.textContent = " · " + where.join(" · ");
        li.appendChild(w);
      }
      if (p.element || p.file) {
        li.tabIndex = 0;
        li.setAttribute("role", "button");
        var open = function () {
          emit("problem", { problem: p });
          var inDiagram = !p.file || isBpmn(p.file) || p.file.slice(-4).toLowerCase() === ".xml";
          if (p.element && inDiagram) selectElement(p.element);
        };
        li.addEventListener("click", open);
        li.addEventListener("keydown", function (e) { if (e.key === "Enter") open(); });
      }
      ol.appendChild(li);
    });
  }

  function showProblems(list) {
    problems = (list || []).slice();
    renderProblems(problems);
    emit("problems", { problems: problems });
  }

  function showTab(name) {
    root.querySelectorAll("[data-tab]").forEach(function (b) {
      var on = b.dataset.tab === name;
      b.setAttribute("aria-selected", on ? "true" : "false");
      b.classList.toggle("on", on);
    });
    root.querySelectorAll("section.editor-tab").forEach(function (s) {
      s.hidden = s.id !== "tab-" + name;
    });
    root.dataset.tab = name;
    emit("tab", { tab: name });
  }

  function selectElement(id) {
    showTab("diagram");
    var modeler = api.modeler;
    if (!modeler) return false;
    var element = modeler.get("elementRegistry").get(id);
    if (!element) return false;
    modeler.get("selection").select(element);
    try {
      modeler.get("canvas").scrollToElement(element);
    } catch (err) { /* an element without a shape (a process) cannot be scrolled to */ }
    return true;
  }

  var api = {
    ready: new Promise(function (resolve, reject) { resolveReady = resolve; rejectReady = reject; }),
    get files() { return files; },
    get dirty() { return dirty; },
    get problems() { return problems.slice(); },
    modeler: null,
    get: function (path) { return has.call(files, path) ? files[path] : null; },
    set: set,
    remove: remove,
    paths: function () { return Object.keys(files).sort(); },
    bpmnPath: function () { return mainBpmn; },
    bundle: bundle,
    setBundle: setBundle,
    formPath: formPath,
    formKeys: formKeys,
    registerFlusher: function (fn) { flushers.push(fn); },
    snapshot: snapshot,
    validate: validate,
    save: save,
    showProblems: showProblems,
    on: on,
    emit: emit,
    selectElement: selectElement,
    showTab: showTab,
    markDirty: markDirty,
    csrf: csrf,
  };
  api.ready.catch(function () { /* reported on the page */ });
  window.LianbanDraft = api;

  root.querySelectorAll("[data-tab]").forEach(function (b) {
    b.addEventListener("click", function () { showTab(b.dataset.tab); });
  });
  root.querySelectorAll("[data-editor-action=validate]").forEach(function (b) {
    b.addEventListener("click", function () { validate(); });
  });
  root.querySelectorAll("[data-editor-action=save]").forEach(function (b) {
    b.addEventListener("click", function () { save(); });
  });
  window.addEventListener("beforeunload", function (e) {
    if (dirty) { e.preventDefault(); e.returnValue = ""; }
  });

  fetch(root.dataset.filesUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      return response.json().then(function (json) {
        if (!response.ok) throw new Error(json.message || json.error || ("HTTP " + response.status));
        return json;
      });
    })
    .then(function (json) {
      files = Object.assign({}, json.files || {});
      mainBpmn = json.bpmn || Object.keys(files).sort().filter(isBpmn)[0] || null;
      root.dataset.ready = "true";
      resolveReady(api);
      emit("ready", { files: files, bpmn: mainBpmn });
    })
    .catch(function (err) {
      root.dataset.ready = "failed";
      status("无法读取事项包文件: " + err.message, "error");
      rejectReady(err);
    });
})();
