// The panel's own styles, added once to the page (the editor's stylesheet is H1's modeler.css).
const CSS = `
.lianban-group-list { list-style: none; margin: 4px 0; padding: 0; max-height: 220px; overflow-y: auto;
  border: 1px solid var(--input-border-color, #ccc); border-radius: 2px; }
.lianban-group-list li { padding: 2px 6px; margin: 0; }
.lianban-groups .lianban-group-list li label { display: flex; flex-direction: row; align-items: center;
  gap: 6px; cursor: pointer; margin: 0; font-weight: normal; }
.lianban-groups .lianban-group-list input[type=checkbox] { width: auto; margin: 0; flex: none; }
.lianban-groups .lianban-group-name { flex: 1; font-family: monospace; text-align: left; }
.lianban-count { color: #555; font-size: 12px; white-space: nowrap; }
.lianban-group-list li.lianban-warning .lianban-count { color: #b35c00; font-weight: bold; }
.lianban-group-list li.lianban-warning { background: #fff6e5; }
.lianban-add { display: flex; gap: 4px; margin-top: 4px; }
.lianban-add input { flex: 1; }
.lianban-button { padding: 2px 10px; border: 1px solid #888; border-radius: 2px; background: #f5f5f5;
  cursor: pointer; }
.lianban-warning-text { color: #8a4b00; background: #fff6e5; border-left: 3px solid #e69500;
  padding: 3px 6px; margin-top: 4px; font-size: 12px; }
.lianban-note { color: #666; font-size: 12px; }
.lianban-expression { font-family: monospace; resize: vertical; min-height: 3em; }
.lianban-check { margin-top: 4px; }
.lianban-check code, .lianban-marked { font-family: monospace; }
.lianban-marked { display: block; margin: 3px 0; white-space: pre-wrap; }
.lianban-marked mark { background: #ffb3b3; color: #900; text-decoration: underline wavy #c00; }
.lianban-hint { margin-top: 2px; }
.lianban-optional-hint { margin-top: 2px; }
.lianban-ok { color: #17692c; font-size: 12px; margin-top: 4px; }
.lianban-link { border: 0; background: none; padding: 0; color: #0b5cad; text-decoration: underline;
  cursor: pointer; font-family: monospace; font-size: inherit; }
.lianban-fields { margin-top: 6px; }
.lianban-fields-head { font-size: 12px; color: #444; margin-bottom: 2px; }
.lianban-field-list { list-style: none; margin: 0; padding: 0; max-height: 180px; overflow-y: auto;
  border: 1px solid #ddd; border-radius: 2px; }
.lianban-field { display: flex; width: 100%; gap: 6px; align-items: baseline; border: 0; background: none;
  padding: 2px 6px; text-align: left; cursor: pointer; font-size: 12px; }
.lianban-field:hover, .lianban-field:focus { background: #e8f0fb; }
.lianban-field-name { font-family: monospace; color: #0b3d91; }
.lianban-field-title { color: #333; flex: 1; }
.lianban-field-type { color: #888; font-size: 11px; }
`;

export function installStyles() {
  if (typeof document === "undefined" || document.getElementById("lianban-panel-styles")) return;
  const style = document.createElement("style");
  style.id = "lianban-panel-styles";
  style.textContent = CSS;
  document.head.appendChild(style);
}
