/** The page's markup and stylesheet around the bundled script. */
import { createHash } from 'node:crypto';

const PAGE_STYLE = `
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, sans-serif; color: #1d1f24; }
header, main { max-width: 960px; margin: 0 auto; padding: 12px 24px; }
h1 { font-size: 22px; margin: 8px 0 0; }
#drop-zone { border: 2px dashed #9aa3b5; border-radius: 8px; padding: 22px; text-align: center; margin: 12px 0; }
#drop-zone.over { background: #eef3ff; border-color: #2b55a6; }
fieldset { border: 1px solid #d9dce3; border-radius: 8px; max-height: 300px; overflow: auto; }
.pass { padding: 2px 0; }
.row { display: flex; gap: 10px; align-items: center; margin: 12px 0; flex-wrap: wrap; }
#pipeline { flex: 1; min-width: 300px; font: 13px ui-monospace, monospace; padding: 6px; }
button { padding: 6px 14px; font-size: 14px; }
#status { white-space: pre-wrap; margin: 10px 0; padding: 8px; background: #f4f5f8; border-radius: 6px; min-height: 2.5em; }
body[data-state="error"] #status { background: #fdecea; color: #8c1d18; }
table { border-collapse: collapse; margin: 10px 0; font-size: 13px; }
caption { text-align: left; font-weight: 600; }
th, td { border-top: 1px solid #d9dce3; padding: 3px 10px; text-align: left; }
code { background: #f4f5f8; padding: 0 4px; border-radius: 3px; }
`;

export interface PageScripts {
  /** The UI script, run by the page, and its CSP hash. */
  readonly ui: string;
  readonly uiHash: string;
  /** The engine worker's script, carried inert (`type="text/plain"`) and started from a blob: URL. */
  readonly engine: string;
}

export function pageHtml(scripts: PageScripts): string {
  const styleHash = `'sha256-${createHash('sha256').update(PAGE_STYLE, 'utf8').digest('base64')}'`;
  // Long's int64 helpers try a 200-byte WebAssembly module and fall back to plain JS without it.
  const policy = `default-src 'none'; script-src ${scripts.uiHash} 'wasm-unsafe-eval'; worker-src blob:; style-src ${styleHash}; img-src data:; base-uri 'none'; form-action 'none'`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${policy}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>modelpass in the browser</title>
<style>${PAGE_STYLE}</style>
</head>
<body data-state="loading">
<header>
<h1>modelpass in the browser</h1>
<p>Open an ONNX model, run a pass pipeline and download the result. Everything runs in this page, in TypeScript compiled to JavaScript: no server, no native code, no network. The same pipeline on the command line (<code>modelpass convert in.onnx -o out.onnx --pipeline …</code>) writes the same bytes.</p>
</header>
<main>
<div id="drop-zone"><label for="model-file">Drop an .onnx file here, or pick one: </label><input type="file" id="model-file" accept=".onnx"></div>
<p id="model-info"></p>
<fieldset id="pass-picker"><legend>Passes (tick to append to the pipeline)</legend></fieldset>
<div class="row"><label for="pipeline">Pipeline</label><input id="pipeline" value="simplify" spellcheck="false" autocomplete="off"><button id="run" disabled>Run pipeline</button></div>
<div class="row"><a id="download" hidden>Download</a><button id="check" disabled>Compare outputs with the reference interpreter</button></div>
<div id="status" role="status" aria-live="polite">Loading…</div>
<table id="pass-results" hidden><caption>Passes run</caption><thead><tr><th scope="col">pass</th><th scope="col">runs</th><th scope="col">time</th><th scope="col">statistics</th></tr></thead><tbody></tbody></table>
<table id="check-results" hidden><caption>Outputs, original vs result (reference interpreter)</caption><thead><tr><th scope="col">output</th><th scope="col">max abs error</th><th scope="col">cosine</th><th scope="col">within tolerance</th></tr></thead><tbody></tbody></table>
</main>
<script type="text/plain" id="engine-source">${scripts.engine}</script>
<script>${scripts.ui}</script>
</body>
</html>
`;
}
