// Builds the designer's in-browser editor (bpmn-js Modeler, properties panel, lint) and the
// 效能监察 dashboard's charts (ECharts) into web/static/build/ with esbuild: `npm run build` (run
// by `make install`). Never committed.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { existsSync } from "node:fs";

const here = path.dirname(fileURLToPath(import.meta.url));

// `import LianbanPropertiesModule from "lianban-properties"` in src/modeler.js: the properties
// panel's own module (src/properties/index.js) when it exists, else nothing (null).
const propertiesIndex = path.join(here, "src", "properties", "index.js");
const optionalProperties = {
  name: "lianban-properties",
  setup(b) {
    b.onResolve({ filter: /^lianban-properties$/ }, () =>
      existsSync(propertiesIndex)
        ? { path: propertiesIndex }
        : { path: "lianban-properties", namespace: "lianban-empty" },
    );
    b.onLoad({ filter: /.*/, namespace: "lianban-empty" }, () => ({
      contents: "export default null;",
      loader: "js",
    }));
  },
};

await build({
  entryPoints: { modeler: path.join(here, "src", "modeler.js") },
  outdir: path.join(here, "..", "static", "build"),
  bundle: true,
  format: "iife",
  minify: true,
  sourcemap: true,
  target: ["chrome100", "firefox100", "safari15"],
  jsx: "automatic",
  jsxImportSource: "@bpmn-io/properties-panel/preact",
  loader: { ".svg": "text", ".bpmnlintrc": "json" },
  logLevel: "warning",
  plugins: [optionalProperties],
});

// The editor's styles (bpmn-js, the properties panel, the lint overlays) as static/build/modeler.css;
// the BPMN icon font travels inside it (woff embedded; the other formats copied alongside).
await build({
  entryPoints: { modeler: path.join(here, "src", "modeler.css") },
  outdir: path.join(here, "..", "static", "build"),
  bundle: true,
  minify: true,
  loader: { ".eot": "file", ".svg": "file", ".ttf": "file", ".woff": "file", ".woff2": "file" },
  logLevel: "warning",
});

// The automatic layout of a diagram that has none (src/autolayout.js: bpmn-auto-layout) as
// static/build/autolayout.js, loaded by every page that shows a diagram (macros/diagram.html).
await build({
  entryPoints: { autolayout: path.join(here, "src", "autolayout.js") },
  outdir: path.join(here, "..", "static", "build"),
  bundle: true,
  format: "iife",
  minify: true,
  sourcemap: true,
  target: ["chrome100", "firefox100", "safari15"],
  logLevel: "warning",
});

// The 效能监察 dashboard's charts (src/dashboard.js: ECharts core with the charts it draws) as
// static/build/dashboard.js, loaded by the /stats page only.
await build({
  entryPoints: { dashboard: path.join(here, "src", "dashboard.js") },
  outdir: path.join(here, "..", "static", "build"),
  bundle: true,
  format: "iife",
  minify: true,
  sourcemap: true,
  target: ["chrome100", "firefox100", "safari15"],
  logLevel: "warning",
});
