import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { EmbeddedBackend, batchOutputs, convertBatch, defaultJobHandlers, lockOutputFolder, type BatchOutcome } from '@modelpass/distributed';
import { PassManager } from '@modelpass/pass-manager';
import { linkOutOfFolder } from '@modelpass/runtime';
import { flagBoolean, flagList, flagString } from '../args.js';
import type { Command } from '../command.js';
import { batchReportWriter, buildBatchReport } from '../batch-report.js';
import { cliConvertHooks, distributedFlags, distributedFromFlags, positiveIntegerFlag } from '../distributed-flags.js';
import { environmentWithPlugins } from '../environment.js';
import { formats, type ModelFormat } from '../formats.js';
import { inputDtypeFlag, parseInputDtypes } from '../input-dtypes.js';
import { inputShapeFlag, parseInputShapes } from '../input-shapes.js';
import { checkOutputTarget } from '../model-files.js';
import { UsageError } from '../usage-error.js';

const MODEL_EXTENSIONS = new Set([...formats.values()].flatMap((f) => f.extensions));

/**
 * The model files named: files as given, folders expanded to the model files directly inside. A
 * folder's entry that is a symbolic link out of that folder is skipped with a note (read only what
 * the user handed over, as external data and reproducers are); naming the file itself converts it.
 */
function modelFiles(positionals: readonly string[], cwd: string, note: (text: string) => void): string[] {
  const files: string[] = [];
  for (const argument of positionals) {
    const path = resolve(cwd, argument);
    let isFolder = false;
    try {
      isFolder = statSync(path).isDirectory();
    } catch {
      // A missing file is reported with the others (its job fails with the reason).
    }
    if (!isFolder) {
      files.push(path);
      continue;
    }
    for (const name of readdirSync(path).filter((entry) => MODEL_EXTENSIONS.has(extname(entry).toLowerCase())).sort()) {
      const entry = join(path, name);
      const target = linkOutOfFolder(path, entry);
      if (target === undefined) files.push(entry);
      else note(`modelpass batch: skipped '${entry}': a symbolic link out of the folder '${path}' (to '${target}'); name the file itself to convert it`);
    }
  }
  return files;
}

/**
 * Unlike convert, batch adds no format passes (raise-tflite, legalize-tflite): a batch that changes
 * formats without naming them would fail every model after the fact, so it is a usage error up front.
 */
function checkFormatPasses(inputs: readonly string[], target: ModelFormat | undefined, pipelineText: string): void {
  const named = (pass: string) => new RegExp(`(^|[^\\w-])${pass}($|[^\\w-])`).test(pipelineText);
  for (const input of inputs) {
    const source = [...formats.values()].find((f) => f.extensions.includes(extname(input).toLowerCase()));
    const output = target ?? source;
    if (!source || !output || source.name === output.name) continue;
    const missing = [source.raisePass, output.legalizePass].filter((pass): pass is string => pass !== undefined && !named(pass));
    if (missing.length === 0) continue;
    const suggested = [source.raisePass, pipelineText, output.legalizePass].filter((part) => part !== undefined && missing.concat(pipelineText).includes(part)).join(',');
    throw new UsageError(
      `'${input}' goes from ${source.name} to ${output.name}, but batch adds no format passes (convert does): name ${missing.join(' and ')} in the pipeline, e.g. --pipeline '${suggested}'`,
    );
  }
}

function size(bytes: number | undefined): string {
  if (bytes === undefined) return '';
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`;
}

/** The summary table: one row per model, the reason of each failure in full below its row. */
export function formatBatchSummary(outcomes: readonly BatchOutcome[], cwd: string): string {
  const name = (path: string) => (path.startsWith(cwd + '/') ? path.slice(cwd.length + 1) : path);
  const rows = outcomes.map((o) => [name(o.input), o.ok ? 'ok' : 'FAILED', o.ok ? `${o.nodesBefore} → ${o.nodesAfter}` : '', o.ok ? size(o.bytes) : '', o.seconds === undefined ? '' : o.seconds.toFixed(2)]);
  const header = ['model', 'result', 'nodes', 'output', 'seconds'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const lines = [line(header)];
  outcomes.forEach((o, i) => {
    lines.push(line(rows[i]!));
    if (!o.ok) lines.push(`  reason: ${o.error!.split('\n').join('\n          ')}`);
  });
  const failed = outcomes.filter((o) => !o.ok).length;
  lines.push('', `${outcomes.length - failed} of ${outcomes.length} models converted${failed ? `, ${failed} failed` : ''}`);
  return lines.join('\n');
}

const TORCHSCRIPT_EXTENSIONS = new Set(formats.get('torchscript')?.extensions ?? []);

/**
 * What a failure for want of input shapes or dtypes says: a rank, a shape, dimensions, a dtype. A .pt
 * refused for other reasons (a hostile pickle, a damaged zip) gets no shape hint (QA s12 N5). Tested on
 * the error without the model's path, which may hold any word.
 */
const SHAPE_FAILURE = /\b(rank|ranks|shape|shapes|dimension|dimensions|dtype|dtypes)\b/i;

/**
 * TorchScript archives record no input shapes: a pass that needs ranks (legalize-tflite, shape
 * folding) then fails node by node. Said once, naming the flag, when such a model failed without it
 * for a reason about shapes or dtypes.
 */
function shapeHint(outcomes: readonly BatchOutcome[], shapesGiven: boolean): string | undefined {
  if (shapesGiven) return undefined;
  const failed = outcomes.filter((o) => !o.ok && TORCHSCRIPT_EXTENSIONS.has(extname(o.input).toLowerCase()) && SHAPE_FAILURE.test((o.error ?? '').split(o.input).join('')));
  if (failed.length === 0) return undefined;
  return `modelpass: hint: TorchScript archives record no input shapes; ${failed.length === 1 ? 'the failed .pt' : `the ${failed.length} failed .pt files`} may need them: --input-shape NAME=DIMS (e.g. --input-shape x=1,3,224,224; --input-dtype NAME=int64 for token ids)`;
}

export const batchCommand: Command = {
  name: 'batch',
  usage: 'modelpass batch --pipeline TEXT <model|folder>... -o <folder> [--to FORMAT] [--input-shape NAME=DIMS]... [--input-dtype NAME=DTYPE]... [--redis URL] [--plugin P]... [--json] [--report FILE.json|FILE.html]',
  summary:
    'Convert many models with one pipeline: one job per model (in this process, or on `modelpass worker` processes with --redis), ' +
    'each output written whole or not at all into the output folder at the input\'s path relative to the inputs\' common folder. Prints a table of successes and failures ' +
    'with the reasons. Exit code 0 when every model converted, 1 when any failed, 2 on a usage error.',
  flags: {
    pipeline: { type: 'string', short: 'p', help: "pass pipeline run on every model, e.g. 'simplify' (see convert --help)", valueName: 'TEXT' },
    output: { type: 'string', short: 'o', help: 'existing folder the outputs go into', valueName: 'DIR' },
    to: { type: 'string', help: `output format, changing the extension (${[...formats.keys()].join(', ')}; default: each input's own)`, valueName: 'FORMAT' },
    plugin: { type: 'list', help: 'load a plugin by npm package name or path (workers need it too: modelpass worker --plugin P)', valueName: 'P' },
    concurrency: { type: 'string', help: 'without --redis: models converted at once in this process (default 1)', valueName: 'N' },
    json: { type: 'boolean', help: 'print the outcomes as JSON on stdout instead of the table' },
    report: { type: 'string', help: 'also write a report file: per model status, error, output path and size, timings, worker (.json: schema modelpass-batch-report/1; .html: a table)', valueName: 'FILE' },
    'input-shape': { ...inputShapeFlag, help: `${inputShapeFlag.help}; applies to every model, each must have input NAME` },
    'input-dtype': { ...inputDtypeFlag, help: `${inputDtypeFlag.help}; applies to every model` },
    redis: distributedFlags['redis']!,
    queue: distributedFlags['queue']!,
    shared: distributedFlags['shared']!,
  },
  async run(args, io) {
    const pipelineText = flagString(args, 'pipeline');
    if (pipelineText === undefined) throw new UsageError("batch needs a pipeline: --pipeline 'simplify'");
    const outputArg = flagString(args, 'output');
    if (outputArg === undefined) throw new UsageError('batch needs an output folder: -o <folder>');
    if (args.positionals.length === 0) throw new UsageError('batch needs at least one model file or folder');
    const folder = resolve(io.cwd, outputArg);
    let folderStats;
    try {
      folderStats = statSync(folder);
    } catch {
      throw new UsageError(`output folder '${folder}' does not exist (create it first: mkdir -p '${folder}')`);
    }
    if (!folderStats.isDirectory()) throw new UsageError(`-o '${folder}' is not a folder`);
    const inputShapes = parseInputShapes(flagList(args, 'input-shape'));
    const inputDtypes = parseInputDtypes(flagList(args, 'input-dtype'));
    const read = inputShapes.size + inputDtypes.size === 0 ? undefined : { inputShapes: Object.fromEntries(inputShapes), inputDtypes: Object.fromEntries(inputDtypes) };
    const to = flagString(args, 'to');
    const format = to === undefined ? undefined : formats.get(to.toLowerCase());
    if (to !== undefined && !format) throw new UsageError(`--to takes one of ${[...formats.keys()].join(', ')}, got '${to}'`);
    // A typo in the pipeline fails here, before any job is sent.
    new PassManager({ environment: await environmentWithPlugins(flagList(args, 'plugin'), io) }).parse(pipelineText);
    const reportFile = flagString(args, 'report');
    const writeReport = reportFile === undefined ? undefined : batchReportWriter(resolve(io.cwd, reportFile));
    // Like convert's --report: a missing folder or a folder in the report's place is refused before any model runs.
    if (reportFile !== undefined) checkOutputTarget(resolve(io.cwd, reportFile), 'report file');
    const inputs = modelFiles(args.positionals, io.cwd, (text) => io.stderr(text));
    if (inputs.length === 0) throw new UsageError(`no model files (${[...MODEL_EXTENSIONS].join(', ')}) in ${args.positionals.join(', ')}`);
    checkFormatPasses(inputs, format, pipelineText);
    const items = batchOutputs(inputs, folder, format?.extensions[0]);
    const clash = items.find((item) => item.output === item.input);
    if (clash) throw new UsageError(`'${clash.input}' would be overwritten by its own output: choose another -o folder`);
    // Models in subfolders keep them under the output folder (created here; the files themselves are written atomically).
    for (const item of items) mkdirSync(dirname(item.output), { recursive: true });
    if (flagString(args, 'concurrency') !== undefined && flagString(args, 'redis') !== undefined) throw new UsageError('--concurrency is for batches in this process; with --redis each worker takes --concurrency');
    // One batch at a time per output folder (a second run names the first's pid and host).
    const lock = lockOutputFolder(folder);
    const started = new Date();
    let outcomes: BatchOutcome[];
    let description: string;
    try {
      const backend =
        flagString(args, 'redis') !== undefined
          ? (await distributedFromFlags(args, io))!.backend
          : new EmbeddedBackend({ handlers: defaultJobHandlers(cliConvertHooks(flagList(args, 'plugin'), io)), concurrency: positiveIntegerFlag(args, 'concurrency') ?? 1 });
      description = backend.description;
      try {
        let settled = 0;
        outcomes = await convertBatch(backend, items, pipelineText, (outcome) => {
          settled++;
          io.stderr(`[${settled}/${items.length}] ${outcome.ok ? 'ok    ' : 'FAILED'} ${outcome.input}`);
        }, read);
      } finally {
        await backend.close();
      }
    } finally {
      lock.release();
    }
    if (writeReport) {
      writeReport(buildBatchReport({ pipeline: pipelineText, backend: description, started, finished: new Date(), outcomes }));
      io.stderr(`report: ${resolve(io.cwd, reportFile!)}`);
    }
    if (flagBoolean(args, 'json')) io.stdout(JSON.stringify({ pipeline: pipelineText, backend: description, outcomes }, null, 2));
    else io.stdout(formatBatchSummary(outcomes, io.cwd));
    const hint = shapeHint(outcomes, inputShapes.size > 0);
    if (hint) io.stderr(hint);
    return outcomes.every((o) => o.ok) ? 0 : 1;
  },
};
