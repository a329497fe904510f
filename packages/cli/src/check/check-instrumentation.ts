/**
 * `convert --check`: after every pass that changed the model, its outputs on the check inputs
 * against the original's (ONNX Runtime as referee), plus accuracy on a labelled dataset. The first
 * pass that breaks the tolerance or the accuracy budget stops the pipeline (the remaining passes
 * are skipped); inside it, the intermediate tensors of the model before and after the pass are
 * compared by name in topological order to find the first diverging node, and a reproducer is
 * written.
 */
import { formatLocation, ModelpassError, type Model, type Tensor } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { PassFailure, type PassInstrumentation, type PassRunInfo, type PassRunOutcome, type PipelineRunInfo, type PluginRecord } from '@modelpass/pass-manager';
import { TfliteEngine, compareOutputs, evaluateAccuracy } from '@modelpass/runtime';
import { notComparableText, type AccuracyFigure, type CheckReport, type Divergence, type OutputsCheck } from '@modelpass/report';
import { formatFigure } from '../compare-report.js';
import type { CheckOptions } from './check-options.js';
import { resolveCheckInputs, type ResolvedCheckInputs } from './check-inputs.js';
import { compareIntermediates } from './intermediate-tensors.js';
import { OrtRejection, Referee, type RefereeEngine } from './referee.js';
import { writeCheckReproducer } from './check-reproducer.js';
import { outputsCheck } from '../report/outputs-check.js';
import { quantizedCheckNote } from '../quantized-note.js';

export interface CheckFailure {
  readonly pass: PassRunInfo;
  readonly check: OutputsCheck;
  readonly divergence?: Divergence;
  readonly reproducer?: string;
  readonly notes: readonly string[];
  /** The original model's accuracy and the budget, when the check measured accuracy. */
  readonly originalAccuracy?: AccuracyFigure;
  readonly accuracyBudget?: number;
}

export interface CheckContext {
  readonly cwd: string;
  /** Where the reproducer goes (a fresh folder next to it when taken). */
  readonly reproducerDirectory: string;
  /** Called after each checked pass (e.g. to print a line). */
  readonly onChecked?: (pass: PassRunInfo, check: OutputsCheck) => void;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

export class CheckInstrumentation implements PassInstrumentation {
  readonly name = 'check';
  /** The check after each pass, by pass execution index. */
  readonly results = new Map<number, OutputsCheck>();
  failure: CheckFailure | undefined;
  originalAccuracy: AccuracyFigure | undefined;
  private readonly referee = new Referee();
  /** Runs models after a pass that left them in the tflite dialect (legalize-tflite), which ORT cannot load. */
  private readonly tflite = new TfliteEngine();
  private originalEngine: RefereeEngine = 'onnxruntime';
  private readonly expected = new Map<RefereeEngine, Map<string, Tensor>>();
  private inputs: ResolvedCheckInputs | undefined;
  /** ONNX bytes of the model as the next pass gets it. */
  private current: Uint8Array | undefined;
  private original: Uint8Array | undefined;
  private lastCheck: OutputsCheck | undefined;
  private plugins: readonly PluginRecord[] = [];
  private readonly notes: string[] = [];

  constructor(
    private readonly options: CheckOptions,
    private readonly context: CheckContext,
  ) {}

  /** Runs the original model on the check inputs (call before the pipeline). */
  async prepare(model: Model): Promise<void> {
    this.original = this.encode(model, 'the input model');
    this.current = this.original;
    this.inputs = resolveCheckInputs(model, this.options.inputs, this.context.cwd);
    this.notes.push(...this.inputs.notes);
    const run = await this.referee.run(this.original, this.inputs.feeds);
    this.expected.set(run.engine, run.outputs);
    this.originalEngine = run.engine;
    if (run.note) this.notes.push(`the original model: ${run.note}`);
    this.originalAccuracy = await this.accuracy(this.original, run.engine);
  }

  beforePipeline(_model: Model, run: PipelineRunInfo): void {
    this.plugins = run.environment.plugins;
  }

  shouldRun(): boolean {
    return this.failure === undefined;
  }

  async afterPass(model: Model, pass: PassRunInfo, outcome: PassRunOutcome): Promise<void> {
    if (this.failure || !this.inputs) return;
    if (!outcome.changed && this.lastCheck) {
      this.results.set(pass.index, this.lastCheck);
      return;
    }
    const before = this.current!;
    const after = this.encode(model, `the model after pass '${pass.passName}'`);
    const check = isTfliteDialect(model) ? await this.checkOnTflite(model) : await this.checkPass(after, pass);
    this.results.set(pass.index, check);
    this.lastCheck = check;
    this.context.onChecked?.(pass, check);
    this.current = after;
    if (check.withinTolerance && check.withinBudget !== false) return;
    await this.fail(model, pass, check, before, after);
  }

  /** The `check` section of the report. */
  report(): CheckReport {
    const failure = this.failure;
    return {
      atol: this.options.atol,
      rtol: this.options.rtol,
      ...(this.options.accuracyBudget !== undefined ? { accuracyBudget: this.options.accuracyBudget } : {}),
      inputs: this.inputs?.description ?? { source: this.options.inputs.kind, samples: 0 },
      status: failure ? 'failed' : 'passed',
      ...(failure ? { failedPass: { index: failure.pass.index, name: failure.pass.passName } } : {}),
      ...(failure?.divergence ? { divergence: failure.divergence } : {}),
      ...(failure?.reproducer ? { reproducer: failure.reproducer } : {}),
      ...(this.notes.length + (failure?.notes.length ?? 0) > 0 ? { notes: [...this.notes, ...(failure?.notes ?? [])] } : {}),
    };
  }

  async dispose(): Promise<void> {
    await this.referee.dispose();
    await this.tflite.dispose();
  }

  private encode(model: Model, what: string): Uint8Array {
    try {
      return encodeOnnx(model);
    } catch (error) {
      throw new ModelpassError({
        reason: `--check runs models in ONNX Runtime, but ${what} cannot be written as ONNX: ${messageOf(error)}`,
        source: '@modelpass/cli',
        cause: error,
      });
    }
  }

  private async expectedOn(engine: RefereeEngine): Promise<Map<string, Tensor>> {
    let outputs = this.expected.get(engine);
    if (!outputs) {
      outputs = await this.referee.runOn(engine, this.original!, this.inputs!.feeds);
      this.expected.set(engine, outputs);
    }
    return outputs;
  }

  private async accuracy(bytes: Uint8Array, engine: RefereeEngine): Promise<AccuracyFigure | undefined> {
    const inputs = this.inputs!;
    if (!inputs.dataset) return undefined;
    const result = await evaluateAccuracy(bytes, inputs.dataset, {
      engine: this.referee.engineFor(engine),
      limit: inputs.description.samples,
      datasetName: inputs.datasetSpec!,
    });
    return { top1: result.accuracy, samples: result.total, dataset: inputs.datasetSpec! };
  }

  /**
   * The check of the model a pass left. When ONNX Runtime ran the original but rejects this model as
   * invalid (a declared type its op contradicts, say), the pass broke the model: that stops the
   * pipeline naming the pass, instead of the interpreter running the file and calling it ok.
   */
  private async checkPass(bytes: Uint8Array, pass: PassRunInfo): Promise<OutputsCheck> {
    try {
      return await this.check(bytes, this.originalEngine === 'onnxruntime' ? 'missing-op' : 'any-failure');
    } catch (error) {
      if (!(error instanceof OrtRejection)) throw error;
      const who = pass.owner?.plugin ? `pass '${pass.passName}' (#${pass.index}, from plugin '${pass.owner.plugin.name}')` : `pass '${pass.passName}' (#${pass.index})`;
      throw new PassFailure(pass.passName, pass.owner, {
        reason: `--check: ONNX Runtime rejects the model ${who} left, though it ran the original: ${error.message}`,
        source: '@modelpass/cli',
        code: 'check/ort-rejected',
        hint: 'the pass wrote something ONNX Runtime refuses (a declared type or shape its op contradicts, an attribute it rejects); the output file was not written',
        cause: error.ortError,
      });
    }
  }

  private async check(bytes: Uint8Array, fallback: 'any-failure' | 'missing-op' = 'any-failure'): Promise<OutputsCheck> {
    const { atol, rtol } = this.options;
    const run = await this.referee.run(bytes, this.inputs!.feeds, undefined, { fallback });
    const comparison = compareOutputs(await this.expectedOn(run.engine), run.outputs, { atol, rtol });
    const accuracy = await this.accuracy(bytes, run.engine);
    const budget = this.options.accuracyBudget;
    const withinBudget = accuracy && this.originalAccuracy && budget !== undefined ? this.originalAccuracy.top1 - accuracy.top1 <= budget + 1e-12 : undefined;
    return outputsCheck(comparison, run.engine, {
      ...(accuracy ? { accuracy } : {}),
      ...(withinBudget !== undefined ? { withinBudget } : {}),
      ...(run.note ? { notes: [run.note] } : {}),
    });
  }

  /**
   * A model in the tflite dialect runs on the TFLite runtime (TFLite 2.9) and is compared with the
   * original's outputs; accuracy on a dataset is not measured there (said in a note).
   */
  private async checkOnTflite(model: Model): Promise<OutputsCheck> {
    const { atol, rtol } = this.options;
    const outputs = await this.tflite.run(model, this.inputs!.feeds);
    const comparison = compareOutputs(await this.expectedOn(this.originalEngine), outputs, { atol, rtol });
    const notes = [`the model is in the tflite dialect: run on the TFLite runtime against the original on ${this.originalEngine === 'onnxruntime' ? 'ONNX Runtime' : 'the reference interpreter'}`];
    if (this.inputs!.dataset) notes.push('accuracy is not measured on the TFLite runtime; the outputs are compared on the dataset samples');
    return outputsCheck(comparison, 'tflite', { notes });
  }

  private async bisect(model: Model, before: Uint8Array, after: Uint8Array, engine: RefereeEngine): Promise<{ divergence?: Divergence; notes: string[] }> {
    const { atol, rtol } = this.options;
    const comparison = await compareIntermediates(decodeOnnx(before), decodeOnnx(after), this.inputs!.feeds, this.referee, { atol, rtol, engine });
    const index = comparison.tensors.findIndex((t) => !t.withinTolerance);
    const notes = [...comparison.notes];
    if (index < 0) {
      notes.push(
        `no intermediate tensor present before and after the pass diverges (${comparison.tensors.length} compared); the pass changed the outputs through nodes or names it added`,
      );
      return { notes };
    }
    const t = comparison.tensors[index]!;
    // The live model keeps the source locations (file, line) that the ONNX round trip drops.
    const live = [...model.graph.nodes()].find((node) => node.name === t.afterNode);
    const { node: _node, op: _op, ...where } = live?.location ?? {};
    const location = live ? formatLocation(where) : t.location;
    if (t.afterNode !== t.node) notes.push(`tensor '${t.name}' is produced by '${t.node}' before the pass and by '${t.afterNode}' after it`);
    return {
      divergence: {
        node: t.afterNode,
        op: t.afterOp,
        ...(location ? { location } : {}),
        tensor: t.name,
        maxAbsError: t.maxAbsError,
        maxRelError: t.maxRelError,
        cosine: t.cosine,
        ...(t.shapeChange ? { shapeChange: t.shapeChange } : {}),
        comparedTensors: index + 1,
      },
      notes,
    };
  }

  private async fail(model: Model, pass: PassRunInfo, check: OutputsCheck, before: Uint8Array, after: Uint8Array): Promise<void> {
    let bisection: { divergence?: Divergence; notes: string[] };
    try {
      bisection = check.engine === 'tflite'
        ? { notes: ['the intermediate tensors are not compared across dialects (ONNX before the pass, TFLite after it): compare the nodes the pass lowered with modelpass compare'] }
        : await this.bisect(model, before, after, check.engine as RefereeEngine);
    } catch (error) {
      bisection = { notes: [`the intermediate tensors could not be compared: ${messageOf(error)}`] };
    }
    const quantizedNote = check.withinTolerance ? undefined : quantizedCheckNote(pass.passName, model);
    this.failure = {
      pass,
      check,
      ...(bisection.divergence ? { divergence: bisection.divergence } : {}),
      notes: quantizedNote ? [...bisection.notes, quantizedNote] : bisection.notes,
      ...(this.originalAccuracy ? { originalAccuracy: this.originalAccuracy } : {}),
      ...(this.options.accuracyBudget !== undefined ? { accuracyBudget: this.options.accuracyBudget } : {}),
    };
    const error = new PassFailure(pass.passName, pass.owner, { reason: checkFailureReason(this.failure), source: '@modelpass/cli', code: 'check/diverged' });
    try {
      const reproducer = writeCheckReproducer({
        directory: this.context.reproducerDirectory,
        before,
        pass,
        plugins: this.plugins,
        feeds: this.inputs!.feeds,
        check: this.report(),
        error,
      });
      this.failure = { ...this.failure, reproducer };
    } catch (writeError) {
      this.failure = { ...this.failure, notes: [...this.failure.notes, `no reproducer was written: ${messageOf(writeError)}`] };
    }
  }
}

/** "dropped top-1 accuracy from 0.9141 to 0.8711 (−4.30 pp; the budget is 2.00 pp)" */
function accuracyDrop(failure: CheckFailure): string {
  const now = failure.check.accuracy?.top1;
  const before = failure.originalAccuracy?.top1;
  if (now === undefined || before === undefined) return `dropped top-1 accuracy to ${now} (budget exceeded)`;
  const points = (fraction: number): string => `${(100 * fraction).toFixed(2)} pp`;
  const budget = failure.accuracyBudget !== undefined ? `; the budget is ${points(failure.accuracyBudget)}` : '';
  return `dropped top-1 accuracy from ${before.toFixed(4)} to ${now.toFixed(4)} (−${points(before - now)} on ${failure.check.accuracy!.samples} samples${budget})`;
}

/** One line: which pass broke what, and where. */
export function checkFailureReason(failure: CheckFailure): string {
  const { pass, check, divergence } = failure;
  const who = pass.owner?.plugin ? `pass '${pass.passName}' (#${pass.index}, from plugin '${pass.owner.plugin.name}')` : `pass '${pass.passName}' (#${pass.index})`;
  const broken = check.outputs.filter((o) => !o.withinTolerance).map((o) => `'${o.name}' (${notComparableText(o) ?? `max abs ${formatFigure(o.maxAbsError)}`})`);
  const what = !check.withinTolerance
    ? `changed output${broken.length === 1 ? '' : 's'} ${broken.join(', ')} beyond |a - e| <= ${check.atol} + ${check.rtol}·|e|`
    : accuracyDrop(failure);
  const where = divergence ? `; first diverging node '${divergence.node}' (${divergence.op}${divergence.location ? ` at ${divergence.location}` : ''}), tensor '${divergence.tensor}' (${notComparableText(divergence) ?? `max abs ${formatFigure(divergence.maxAbsError)}`})` : '';
  return `--check: ${who} ${what}${where}`;
}

/** Whether a pass left the model in the tflite dialect (ONNX Runtime cannot load `tflite.*` ops). */
function isTfliteDialect(model: Model): boolean {
  for (const node of model.graph.nodes()) if (node.op.startsWith('tflite.')) return true;
  return false;
}
