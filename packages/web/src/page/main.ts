/**
 * The browser page: drop or pick an .onnx file, pick passes (the transforms registry), run the
 * pipeline in this page, download the result, and compare outputs with the reference interpreter.
 * `<body data-state>` tells a test where the page is: `ready`, `loaded`, `running`, `done`,
 * `checked`, or `error` (with the message in `#status`).
 */
import { byId, element, fillTable, formatBytes } from './dom.js';
import { availablePasses, pageEnvironment, runPipelineOnBytes, type PipelineRun } from './pipeline-runner.js';
import { checkWithReference } from './reference-check.js';

interface LoadedModel {
  readonly name: string;
  readonly bytes: Uint8Array;
}

const environment = pageEnvironment();
let loaded: LoadedModel | undefined;
let result: PipelineRun | undefined;
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

function buildPassPicker(): void {
  const picker = byId<HTMLFieldSetElement>('pass-picker');
  const pipeline = byId<HTMLInputElement>('pipeline');
  const chosen: string[] = pipeline.value.split(',').map((p) => p.trim()).filter(Boolean);
  for (const pass of availablePasses(environment)) {
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

async function loadFile(file: File): Promise<void> {
  loaded = { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
  result = undefined;
  byId<HTMLAnchorElement>('download').hidden = true;
  byId<HTMLButtonElement>('run').disabled = false;
  byId<HTMLButtonElement>('check').disabled = true;
  byId('model-info').textContent = `${file.name}: ${formatBytes(loaded.bytes.length)}`;
  setState('loaded', `Loaded ${file.name}. Pick passes and run.`);
}

async function runPipeline(): Promise<void> {
  if (!loaded) return;
  const pipelineText = byId<HTMLInputElement>('pipeline').value;
  setState('running', `Running ${pipelineText || '(no passes)'} on ${loaded.name}…`);
  // Let the status paint before the synchronous work starts.
  await new Promise((resolve) => setTimeout(resolve, 0));
  try {
    result = await runPipelineOnBytes(loaded.bytes, loaded.name, pipelineText, environment);
  } catch (error) {
    setState('error', messageOf(error));
    return;
  }
  fillTable(
    byId<HTMLTableElement>('pass-results'),
    result.passes.map((row) => [
      row.pass,
      String(row.runs),
      `${row.wallMs.toFixed(1)} ms`,
      Object.entries(row.statistics).filter(([, n]) => n !== 0).map(([name, n]) => `${name} ${n}`).join(', ') || '–',
    ]),
  );
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = URL.createObjectURL(new Blob([result.output as BlobPart], { type: 'application/octet-stream' }));
  const link = byId<HTMLAnchorElement>('download');
  link.href = downloadUrl;
  link.download = outputName(loaded.name);
  link.textContent = `Download ${link.download} (${formatBytes(result.output.length)})`;
  link.hidden = false;
  byId<HTMLButtonElement>('check').disabled = false;
  const { before, after } = result;
  setState('done', `Done in ${result.totalMs.toFixed(0)} ms: nodes ${before.nodes} → ${after.nodes}, weights ${formatBytes(before.constantBytes)} → ${formatBytes(after.constantBytes)}, file ${formatBytes(loaded.bytes.length)} → ${formatBytes(result.output.length)}.${result.warnings.length > 0 ? ` ${result.warnings.join(' ')}` : ''}`);
}

async function compareWithReference(): Promise<void> {
  if (!loaded || !result) return;
  setState('running', 'Running both models with the reference interpreter…');
  await new Promise((resolve) => setTimeout(resolve, 0));
  try {
    const check = await checkWithReference(loaded.bytes, result.output, loaded.name);
    fillTable(
      byId<HTMLTableElement>('check-results'),
      check.comparison.perOutput.map((o) => [o.name, o.maxAbsError.toExponential(2), o.cosine === null ? '–' : o.cosine.toFixed(6), o.withinTolerance ? 'yes' : 'NO']),
    );
    const verdict = check.comparison.withinTolerance ? 'outputs match' : 'OUTPUTS DIFFER';
    setState('checked', `Reference interpreter: ${verdict} (max abs error ${check.comparison.maxAbsError.toExponential(2)}) on seeded random inputs ${check.inputs.map((i) => `${i.name}[${i.shape.join(',')}]`).join(', ')}, ${check.ms.toFixed(0)} ms.`);
  } catch (error) {
    setState('error', messageOf(error));
  }
}

function start(): void {
  buildPassPicker();
  const input = byId<HTMLInputElement>('model-file');
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file) void loadFile(file).catch((error) => setState('error', messageOf(error)));
  });
  const zone = byId('drop-zone');
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    const file = event.dataTransfer?.files[0];
    if (file) void loadFile(file).catch((error) => setState('error', messageOf(error)));
  });
  byId('run').addEventListener('click', () => void runPipeline());
  byId('check').addEventListener('click', () => void compareWithReference());
  setState('ready', 'Drop an .onnx file or pick one.');
}

start();
