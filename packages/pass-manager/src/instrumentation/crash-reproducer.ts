import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { claimTemporaryPath, ModelpassError, printModel, releaseTemporaryPath, type Model } from '@modelpass/ir';
import type { PluginRecord } from '../environment.js';
import { PassFailure } from '../pass-failure.js';
import { printPipeline } from '../pipeline/pipeline.js';
import { PASS_MANAGER_VERSION } from '../version.js';
import type { FailureAnnotation, PassInstrumentation, PassRunInfo, PipelineRunInfo } from './instrumentation.js';
import { REPRODUCER_WEIGHTS_FILE, ReproducerWeights } from './reproducer-weights.js';

export interface CrashReproducerOptions {
  /**
   * The folder to write the reproducer into. When it already exists and is not empty, `-2`, `-3`,
   * ... is appended, so an earlier reproducer is never overwritten.
   */
  readonly directory: string;
  /**
   * Options for `printModel` of the input. Default: file-backed tensors over 4 KiB are copied
   * into the reproducer's `weights.bin` and referenced there relatively (smaller ones inlined),
   * so the folder is self-contained; nothing is elided.
   */
  readonly printOptions?: Parameters<typeof printModel>[1];
  /**
   * `'pipeline'` (default): the reproducer holds the pipeline's input and the whole pipeline.
   * `'pass'`: it holds the input of the failing pass and only that pass (like MLIR's local
   * reproducer); this prints the IR before every pass, so it costs more.
   */
  readonly scope?: 'pipeline' | 'pass';
  /**
   * `'any-failure'` (default): every pipeline failure writes a reproducer. `'crash'`: only failures a
   * pass did not diagnose itself: something other than a `ModelpassError` thrown from a pass (a
   * bug), IR that does not verify after a pass, a bad return value. A pass's own `ModelpassError`
   * (a missing file named in an option, an unsupported node) already says what is wrong with the
   * user's input, and replaying it would only repeat the message.
   */
  readonly on?: 'any-failure' | 'crash';
}

/** Whether a pipeline failure is a pass refusing its input with its own diagnosis (not a crash). */
export function isDiagnosedPassError(error: ModelpassError): boolean {
  return error instanceof PassFailure && ModelpassError.is(error.cause);
}

/** What `reproducer.json` holds (besides the files named in it). */
export interface ReproducerManifest {
  readonly format: 'modelpass-reproducer';
  readonly version: 1;
  readonly passManagerVersion: string;
  readonly failingPass?: string;
  readonly failingPlugin?: string;
  readonly createdAt: string;
}

export const REPRODUCER_FILES = {
  input: 'input.mpir',
  weights: REPRODUCER_WEIGHTS_FILE,
  pipeline: 'pipeline.txt',
  plugins: 'plugins.json',
  error: 'error.txt',
  readme: 'README.md',
  manifest: 'reproducer.json',
} as const;

/**
 * On a pipeline failure, writes a folder that replays it: the IR that went into the pipeline
 * (`input.mpir`), the pipeline with every option spelled out (`pipeline.txt`), the plugins that
 * were loaded (`plugins.json`), the error (`error.txt`) and a README naming the command
 * `modelpass replay <dir>` (which calls `replayReproducer`). The error then carries a note saying
 * where the reproducer is.
 */
export class CrashReproducerInstrumentation implements PassInstrumentation {
  readonly name = 'crash-reproducer';
  private input: string | undefined;
  private weights: ReproducerWeights | undefined;
  private inputProblem: string | undefined;
  /** With scope 'pass': the failing pass as pipeline text. */
  private failingPass: string | undefined;
  /** The folder written by the last failure, if any. */
  lastReproducer: string | undefined;

  constructor(private readonly options: CrashReproducerOptions) {}

  private capture(model: Model): void {
    this.input = undefined;
    this.inputProblem = undefined;
    const weights = new ReproducerWeights();
    this.weights = weights;
    try {
      this.input = printModel(model, this.options.printOptions ?? { referenceFileData: true, mapFileReference: weights.place });
    } catch (error) {
      this.inputProblem = error instanceof Error ? error.message : String(error);
    }
  }

  beforePipeline(model: Model): void {
    this.failingPass = undefined;
    this.capture(model);
  }

  beforePass(model: Model, pass: PassRunInfo): void {
    if (this.options.scope !== 'pass') return;
    this.capture(model);
    this.failingPass = printPipeline([{ kind: 'pass', pass: pass.pass, owner: pass.owner, options: pass.options }], { defaults: true });
  }

  afterPipelineFailed(_model: Model, run: PipelineRunInfo, error: ModelpassError): FailureAnnotation {
    if (this.options.on === 'crash' && isDiagnosedPassError(error)) return {};
    // Failed before this instrumentation saw the input (another instrumentation's beforePipeline refused
    // its options): nothing ran, so there is nothing to reproduce and nothing to say about it.
    if (this.input === undefined && this.inputProblem === undefined) return {};
    if (this.input === undefined) {
      return { notes: [`no reproducer was written: the input model could not be printed (${this.inputProblem ?? 'no input captured'})`] };
    }
    try {
      const directory = writeReproducer(this.options.directory, {
        input: this.input,
        ...(this.weights && !this.weights.isEmpty ? { weights: this.weights } : {}),
        pipeline: this.failingPass ?? run.text,
        plugins: run.environment.plugins,
        error,
      });
      this.lastReproducer = directory;
      const allow = run.environment.plugins.length > 0 ? ' --allow-plugins' : '';
      const trust = allow ? ' (it loads the recorded plugins: only if you trust them)' : '';
      return { notes: [`a reproducer was written to ${directory}; replay it with: modelpass replay ${directory}${allow}${trust}`] };
    } catch (writeError) {
      return { notes: [`no reproducer was written to ${this.options.directory}: ${writeError instanceof Error ? writeError.message : String(writeError)}`] };
    }
  }
}

function freeDirectory(wanted: string): string {
  const base = resolve(wanted);
  const isFree = (dir: string): boolean => !existsSync(dir) || readdirSync(dir).length === 0;
  if (isFree(base)) return base;
  for (let n = 2; ; n++) if (isFree(`${base}-${n}`)) return `${base}-${n}`;
}

function errorText(error: ModelpassError): string {
  let text = error.message + '\n';
  let cause: unknown = error.cause;
  for (let depth = 0; cause !== undefined && depth < 5; depth++) {
    text += `\ncaused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}\n`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return text;
}

function readme(error: ModelpassError, directory: string, plugins = false): string {
  const failing = error instanceof PassFailure ? `pass \`${error.passName}\`${error.plugin ? ` (from plugin \`${error.plugin}\`)` : ''}` : 'the pipeline';
  return [
    '# modelpass crash reproducer',
    '',
    `A pipeline run failed in ${failing}. Replay it with:`,
    '',
    '```sh',
    `modelpass replay ${directory}${plugins ? ' --allow-plugins' : ''}`,
    '```',
    ...(plugins ? ['', '`--allow-plugins` loads the plugins named in `plugins.json`, which runs their code: use it only if you trust them.'] : []),
    '',
    'Files:',
    '',
    `- \`${REPRODUCER_FILES.input}\`: the model as it went into the pipeline (textual IR)`,
    `- \`${REPRODUCER_FILES.weights}\`: its larger weights, referenced from ${REPRODUCER_FILES.input} by relative file(...) paths (absent when there are none)`,
    `- \`${REPRODUCER_FILES.pipeline}\`: the pipeline, every option spelled out`,
    `- \`${REPRODUCER_FILES.plugins}\`: the plugins that were loaded (name, version, where from)`,
    `- \`${REPRODUCER_FILES.error}\`: the error that was raised`,
    '',
    'The first line of the error:',
    '',
    '```',
    error.message.split('\n')[0] ?? '',
    '```',
    '',
  ].join('\n');
}

/** Writes a reproducer folder (through a temporary sibling folder and a rename); returns its path. */
export function writeReproducer(
  wanted: string,
  contents: { input: string; weights?: ReproducerWeights; pipeline: string; plugins: readonly PluginRecord[]; error: ModelpassError },
): string {
  const directory = freeDirectory(wanted);
  // A registered temporary: removed on SIGINT/SIGTERM/SIGHUP, and by the next reproducer when its writer was killed.
  const temp = claimTemporaryPath(directory);
  mkdirSync(temp, { recursive: true });
  try {
    const { error } = contents;
    const manifest: ReproducerManifest = {
      format: 'modelpass-reproducer',
      version: 1,
      passManagerVersion: PASS_MANAGER_VERSION,
      ...(error instanceof PassFailure ? { failingPass: error.passName } : {}),
      ...(error instanceof PassFailure && error.plugin ? { failingPlugin: error.plugin } : {}),
      createdAt: new Date().toISOString(),
    };
    writeFileSync(join(temp, REPRODUCER_FILES.input), contents.input);
    contents.weights?.writeTo(join(temp, REPRODUCER_FILES.weights));
    writeFileSync(join(temp, REPRODUCER_FILES.pipeline), contents.pipeline + '\n');
    writeFileSync(join(temp, REPRODUCER_FILES.plugins), JSON.stringify(contents.plugins, null, 2) + '\n');
    writeFileSync(join(temp, REPRODUCER_FILES.error), errorText(error));
    writeFileSync(join(temp, REPRODUCER_FILES.readme), readme(error, directory, contents.plugins.length > 0));
    writeFileSync(join(temp, REPRODUCER_FILES.manifest), JSON.stringify(manifest, null, 2) + '\n');
    if (existsSync(directory)) rmSync(directory, { recursive: true }); // an empty folder
    renameSync(temp, directory);
    releaseTemporaryPath(temp);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    releaseTemporaryPath(temp);
    throw error;
  }
  return directory;
}
