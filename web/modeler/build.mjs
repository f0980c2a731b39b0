// Builds the designer's in-browser editor (bpmn-js Modeler, properties panel, lint) into
// web/static/build/ with esbuild: `npm run build` (run by `make install`). Never committed.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));

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
});
