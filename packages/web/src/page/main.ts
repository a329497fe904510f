/**
 * The browser page's UI: drop or pick an .onnx file, pick passes (the transforms registry), run the
 * pipeline, download the result, and compare outputs with the reference interpreter. The work runs
 * in the engine worker (engine-worker.ts), whose script the page carries in `#engine-source`.
 * `<body data-state>` tells a test where the page is: `loading`, `ready`, `loaded`, `running`,
 * `done`, `checked`, or `error` (with the message in `#status`).
 */
import { byId, element, fillTable, formatBytes } from './dom.js';
import type { FromEngine, ToEngine } from './messages.js';

let loaded: { readonly name: string; readonly bytes: Uint8Array } | undefined;
let downloadUrl: string | undefined;

function setState(state: string, message: string): void {
  document.body.dataset['state'] = state;
  byId('status').textContent = message;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function outputName(input: string): string {
  return `${input.replace(/\.onnx$/i, '')}.opt.onnx`;
}

function startEngine(): Worker {
  const source = byId('engine-source').textContent ?? '';
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const worker = new Worker(url);
  worker.addEventListener('message', (event: MessageEvent<FromEngine>) => onEngineMessage(event.data));
  worker.addEventListener('error', (event) => setState('error', `the engine stopped: ${event.message}`));
  return worker;
}

const engine = startEngine();

function send(message: ToEngine): void {
  engine.postMessage(message);
}

function buildPassPicker(passes: readonly { name: string; summary: string }[]): void {
  const picker = byId<HTMLFieldSetElement>('pass-picker');
  const pipeline = byId<HTMLInputElement>('pipeline');
  const chosen = pipeline.value.split(',').map((p) => p.trim()).filter(Boolean);
  for (const pass of passes) {
    const box = element('input', { type: 'checkbox', value: pass.name, id: `pass-${pass.name}` });
    box.checked = chosen.includes(pass.name);
    box.addEventListener('change', () => {
      const current = pipeline.value.split(',').map((p) => p.trim()).filter(Boolean);
      const next = box.checked ? [...current, pass.name] : current.filter((name) => name !== pass.name);
      pipeline.value = next.join(',');
    });
    const label = element('label', { for: `pass-${pass.name}` }, element('code', {}, pass.name), ` — ${pass.summary}`);
    picker.append(element('div', { class: 'pass' }, box, label));
  }
}

function onEngineMessage(message: FromEngine): void {
  switch (message.type) {
    case 'passes':
      buildPassPicker(message.passes);
      setState('ready', 'Drop an .onnx file or pick one.');
      return;
    case 'error':
      byId<HTMLButtonElement>('run').disabled = loaded === undefined;
      setState('error', message.message);
      return;
    case 'ran': {
      fillTable(
        byId<HTMLTableElement>('pass-results'),
        message.passes.map((row) => [
          row.pass,
          String(row.runs),
          `${row.wallMs.toFixed(1)} ms`,
          Object.entries(row.statistics).filter(([, n]) => n !== 0).map(([name, n]) => `${name} ${n}`).join(', ') || '–',
        ]),
      );
      if (downloadUrl) URL.revokeObjectURL(downloadUrl);
      downloadUrl = URL.createObjectURL(new Blob([message.output as BlobPart], { type: 'application/octet-stream' }));
      const link = byId<HTMLAnchorElement>('download');
      link.href = downloadUrl;
      link.download = outputName(loaded?.name ?? 'model.onnx');
      link.textContent = `Download ${link.download} (${formatBytes(message.output.length)})`;
      link.hidden = false;
      byId<HTMLButtonElement>('check').disabled = false;
      byId<HTMLButtonElement>('run').disabled = false;
      const { before, after } = message;
      const warnings = message.warnings.length > 0 ? ` ${message.warnings.join(' ')}` : '';
      setState('done', `Done in ${message.totalMs.toFixed(0)} ms: nodes ${before.nodes} → ${after.nodes}, weights ${formatBytes(before.constantBytes)} → ${formatBytes(after.constantBytes)}, file ${formatBytes(loaded?.bytes.length ?? 0)} → ${formatBytes(message.output.length)}.${warnings}`);
      return;
    }
    case 'checked': {
      fillTable(
        byId<HTMLTableElement>('check-results'),
        message.rows.map((row) => [row.output, row.difference, row.cosine === null ? '–' : row.cosine.toFixed(6), row.withinTolerance ? 'yes' : 'NO']),
      );
      const verdict = message.withinTolerance ? 'outputs match' : 'OUTPUTS DIFFER';
      const inputs = message.inputs.map((i) => `${i.name}[${i.shape.join(',')}]`).join(', ');
      setState('checked', `Reference interpreter: ${verdict} (${message.detail}) on seeded random inputs ${inputs}, ${message.ms.toFixed(0)} ms.`);
      byId<HTMLButtonElement>('check').disabled = false;
      byId<HTMLButtonElement>('run').disabled = false;
      return;
    }
  }
}

async function loadFile(file: File): Promise<void> {
  loaded = { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
  byId<HTMLAnchorElement>('download').hidden = true;
  byId<HTMLButtonElement>('run').disabled = false;
  byId<HTMLButtonElement>('check').disabled = true;
  byId('model-info').textContent = `${file.name}: ${formatBytes(loaded.bytes.length)}`;
  setState('loaded', `Loaded ${file.name}. Pick passes and run.`);
}

function runPipeline(): void {
  if (!loaded) return;
  const pipeline = byId<HTMLInputElement>('pipeline').value;
  byId<HTMLButtonElement>('run').disabled = true;
  byId<HTMLButtonElement>('check').disabled = true;
  setState('running', `Running ${pipeline.trim() || '(no passes)'} on ${loaded.name}…`);
  send({ type: 'run', bytes: loaded.bytes, fileName: loaded.name, pipeline });
}

function compareWithReference(): void {
  byId<HTMLButtonElement>('run').disabled = true;
  byId<HTMLButtonElement>('check').disabled = true;
  setState('running', 'Running both models with the reference interpreter…');
  send({ type: 'check' });
}

function loadFrom(file: File | undefined): void {
  if (file) void loadFile(file).catch((error: unknown) => setState('error', messageOf(error)));
}

function wireControls(): void {
  const input = byId<HTMLInputElement>('model-file');
  input.addEventListener('change', () => loadFrom(input.files?.[0]));
  const zone = byId('drop-zone');
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    loadFrom(event.dataTransfer?.files[0]);
  });
  byId('run').addEventListener('click', runPipeline);
  byId('check').addEventListener('click', compareWithReference);
}

wireControls();
