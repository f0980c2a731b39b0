// What the panel asks the server (web/pages/designer_panel.py): the groups with their member
// counts, the fields available at an element of the draft, a condition checked as it is typed.
const DEFAULTS = {
  groupsUrl: "/designer/panel/groups",
  fieldsUrl: "/designer/panel/fields",
  checkUrl: "/designer/panel/check",
};

export class PanelApi {
  constructor(config, draft, modeler) {
    this.config = { ...DEFAULTS, ...(config || {}) };
    this.draft = draft || null; // the modeler's `lianban: { draft }`, else window.LianbanDraft
    this.modeler = modeler; // saveXML, on a page without a draft store
    this.groups = null;
    this.fieldCache = new Map();
    this.revision = 0;
  }

  /** The draft store (static/js/draft_store.js), or null. */
  store() {
    return this.draft || window.LianbanDraft || null;
  }

  csrf() {
    if (this.config.csrf) return this.config.csrf;
    const store = this.store();
    if (store && store.csrf) return store.csrf();
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  async post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": this.csrf() },
      body: JSON.stringify(body),
    });
    const json = await response.json().catch(() => null);
    if (!response.ok) {
      const message = (json && (json.message || json.error)) || `请求失败 (${response.status})`;
      throw new Error(message);
    }
    return json;
  }

  /** [{name, members}] of the groups that exist, fetched once per page. */
  loadGroups() {
    if (!this.groups) {
      this.groups = fetch(this.config.groupsUrl, { credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : []))
        .catch(() => []);
    }
    return this.groups;
  }

  /** The model changed: fields computed before may no longer hold. */
  changed() {
    this.revision += 1;
  }

  async files() {
    const store = this.store();
    if (store && store.snapshot) return store.snapshot();
    const { xml } = await this.modeler.saveXML({ format: true });
    return { "diagram.bpmn": xml };
  }

  /** {fields: [{name,title,type,form}], complete, reached} at a flow or node of the draft. */
  fields(elementId) {
    const key = `${elementId}@${this.revision}`;
    if (!this.fieldCache.has(key)) {
      if (this.fieldCache.size > 50) this.fieldCache.clear();
      const found = this.files().then((files) =>
        this.post(this.config.fieldsUrl, { files, element: elementId }),
      );
      found.catch(() => this.fieldCache.delete(key));
      this.fieldCache.set(key, found);
    }
    return this.fieldCache.get(key);
  }

  /** {ok, error: {message, offset, hint}|null, unknown: [{name, suggestion}]} */
  check(expression, names) {
    return this.post(this.config.checkUrl, { expression, fields: names });
  }
}
