import { diagnostic, ModelpassError, type Diagnostic, type DiagnosticInit, type Model } from '@modelpass/ir';
import { AnalysisManager, preservedAnalyses } from './analysis-manager.js';
import { PassEnvironment } from './environment.js';
import type {
  PassInstrumentation,
  PassRunInfo,
  PassRunOutcome,
  PipelineResult,
  PipelineRunInfo,
} from './instrumentation/instrumentation.js';
import { VerifyEachInstrumentation, type VerifyEachOptions } from './instrumentation/verify-each.js';
import { kebabCase } from './option.js';
import type { PassContext, PreservedAnalyses } from './pass.js';
import { describePass, PassFailure, wrapPassError } from './pass-failure.js';
import { fixedPointAnchor, repeatAnchor } from './pipeline/anchors.js';
import { checkPipelineNesting, printPipeline, resolvedOptions, type AnchorStep, type PassStep, type Pipeline, type PipelineStep } from './pipeline/pipeline.js';
import { parsePipeline } from './pipeline/resolve.js';
import { DEFAULT_MAX_PIPELINE_NESTING } from './pipeline/syntax.js';
import { settlePassResult } from './pass-settlement.js';
import { checkPassReport } from './pass-report.js';
import { checkModelArgument, checkPassManagerOptions, checkPipelineArgument, claimModelForRun } from './run-arguments.js';

export interface PassManagerOptions {
  /** Passes, ops, plugin patterns and plugins (default: an empty environment). */
  readonly environment?: PassEnvironment;
  /** Installed in order, after verify-each. */
  readonly instrumentations?: readonly PassInstrumentation[];
  /** Verify the input and the IR after every pass against `environment.ops` (default true). */
  readonly verifyEach?: boolean | VerifyEachOptions;
  /** Cancels the pipeline between passes; passes see it as `context.signal`. */
  readonly signal?: AbortSignal;
  /** Receives each warning or note as it is reported (they are also in the result). */
  readonly onDiagnostic?: (diagnostic: Diagnostic) => void;
  /** Where `context.debug` messages go: true for stderr, a function, or nowhere (default). */
  readonly debug?: boolean | ((message: string, pass: PassRunInfo) => void);
  /**
   * Fail a pass whose promise has not settled after this many milliseconds (default: no limit).
   * Whatever the limit, a pass whose promise can never settle (the event loop empties while it
   * is pending) fails at once, naming the pass and its plugin.
   */
  readonly passTimeoutMs?: number;
  /** The deepest nesting of anchors (`repeat`, `fixed-point`) a pipeline may have (default 32). */
  readonly maxPipelineNesting?: number;
}

/** The pipeline as text (resolved against the environment's passes), resolved, or as steps. */
export type PipelineInput = string | Pipeline | readonly PipelineStep[];

interface RunState {
  readonly model: Model;
  readonly run: PipelineRunInfo;
  readonly analyses: AnalysisManager;
  readonly diagnostics: Diagnostic[];
  index: number;
  skipped: number;
}

/**
 * Runs pipelines: resolves the text, fills option defaults, gives each pass its context (options,
 * statistics, cached analyses, diagnostics, debug log, cancellation), invalidates the analyses a
 * pass did not preserve, runs anchors (`repeat`, `fixed-point`) and calls the instrumentations.
 * Every pass error comes out as a `PassFailure` (a ModelpassError naming the pass and plugin).
 */
export class PassManager {
  readonly environment: PassEnvironment;
  private readonly instrumentations: PassInstrumentation[] = [];

  constructor(private readonly options: PassManagerOptions = {}) {
    checkPassManagerOptions(options);
    this.environment = options.environment ?? new PassEnvironment();
    const timeout = options.passTimeoutMs;
    if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0)) {
      throw new ModelpassError({ reason: 'passTimeoutMs must be a positive number of milliseconds', actual: String(timeout), source: '@modelpass/pass-manager', code: 'pipeline/bad-option' });
    }
    const verifyEach = options.verifyEach ?? true;
    if (verifyEach !== false) {
      const onInputWarning = options.onDiagnostic;
      this.instrumentations.push(new VerifyEachInstrumentation({ ...(onInputWarning ? { onInputWarning } : {}), ...(verifyEach === true ? {} : verifyEach) }));
    }
    this.instrumentations.push(...(options.instrumentations ?? []));
  }

  addInstrumentation(instrumentation: PassInstrumentation): this {
    this.instrumentations.push(instrumentation);
    return this;
  }

  /** Resolves pipeline text against this manager's passes. */
  parse(pipeline: PipelineInput): Pipeline {
    const maxNesting = this.options.maxPipelineNesting ?? DEFAULT_MAX_PIPELINE_NESTING;
    if (typeof pipeline === 'string') return parsePipeline(pipeline, this.environment.passes, { maxNesting });
    checkPipelineArgument(pipeline);
    const resolved = 'steps' in pipeline ? (pipeline as Pipeline) : { steps: pipeline as readonly PipelineStep[] };
    checkPipelineNesting(resolved.steps, maxNesting);
    return resolved;
  }

  /** Runs the pipeline on `model` in place. */
  async run(model: Model, pipelineInput: PipelineInput): Promise<PipelineResult> {
    checkModelArgument(model);
    const pipeline = this.parse(pipelineInput);
    const release = claimModelForRun(model);
    try {
      return await this.runClaimed(model, pipeline);
    } finally {
      release();
    }
  }

  private async runClaimed(model: Model, pipeline: Pipeline): Promise<PipelineResult> {
    // The text is printed when an instrumentation reads it (a reproducer, a dump header), not on every run.
    let text: string | undefined;
    const run: PipelineRunInfo = {
      pipeline,
      get text() {
        return (text ??= printPipeline(pipeline, { defaults: true }));
      },
      environment: this.environment,
    };
    const state: RunState = { model, run, analyses: new AnalysisManager(this.environment.ops), diagnostics: [], index: 0, skipped: 0 };
    try {
      for (const i of this.instrumentations) i.beforePipeline?.(model, run);
      const changed = await this.runSteps(state, pipeline.steps, []);
      // Cancelled while the last pass ran (a pass that does not watch context.signal finishes anyway):
      // the pipeline did not complete as asked, so it must not look like a success (the CLI would write).
      const signal = this.options.signal;
      if (signal?.aborted) {
        throw new ModelpassError({ reason: 'pipeline cancelled during its last pass', source: '@modelpass/pass-manager', code: 'pipeline/cancelled', cause: signal.reason });
      }
      const result: PipelineResult = { changed, diagnostics: state.diagnostics, passesRun: state.index - state.skipped, passesSkipped: state.skipped };
      for (const i of this.instrumentations) i.afterPipeline?.(model, run, result);
      return result;
    } catch (thrown) {
      const error = ModelpassError.is(thrown)
        ? thrown
        : new ModelpassError({ reason: `pipeline failed: ${thrown instanceof Error ? thrown.message : String(thrown)}`, source: '@modelpass/pass-manager', cause: thrown });
      const notes: string[] = [];
      for (const i of this.instrumentations) {
        try {
          const annotation = i.afterPipelineFailed?.(model, run, error);
          if (annotation?.notes) notes.push(...annotation.notes);
        } catch (hookError) {
          notes.push(`instrumentation ${i.name ?? '(unnamed)'} failed while handling the error: ${hookError instanceof Error ? hookError.message : String(hookError)}`);
        }
      }
      throw notes.length ? withNotes(error, notes) : error;
    }
  }

  private async runSteps(state: RunState, steps: readonly PipelineStep[], nesting: readonly string[]): Promise<boolean> {
    let changed = false;
    for (const step of steps) {
      const stepChanged = step.kind === 'pass' ? await this.runPass(state, step, nesting) : await this.runAnchor(state, step, nesting);
      changed ||= stepChanged;
    }
    return changed;
  }

  private async runAnchor(state: RunState, step: AnchorStep, nesting: readonly string[]): Promise<boolean> {
    const options = resolvedOptions(step.anchor.options, step.options);
    if (step.anchor === repeatAnchor) {
      let changed = false;
      for (let i = 1; i <= (options['times'] as number); i++) {
        // A round that changed nothing leaves the model as it found it: the next would do the same.
        if (!(await this.runSteps(state, step.steps, [...nesting, `repeat#${i}`]))) return changed;
        changed = true;
      }
      return changed;
    }
    if (step.anchor === fixedPointAnchor) {
      const max = options['maxIterations'] as number;
      let changed = false;
      for (let i = 1; i <= max; i++) {
        if (!(await this.runSteps(state, step.steps, [...nesting, `fixed-point#${i}`]))) return changed;
        changed = true;
      }
      this.report(state, {
        severity: 'warning',
        reason: `fixed-point did not converge: the nested pipeline '${printPipeline(step.steps)}' still changed the model in iteration ${max} of ${max}`,
        hint: `raise ${kebabCase('maxIterations')} if the model just needs more rounds; otherwise two passes may undo each other`,
        code: 'pipeline/no-fixed-point',
        source: '@modelpass/pass-manager',
      });
      return changed;
    }
    throw new ModelpassError({ reason: `unknown pipeline anchor '${step.anchor.name}'`, source: '@modelpass/pass-manager' });
  }

  private report(state: RunState, init: DiagnosticInit): Diagnostic {
    const d = diagnostic({ severity: 'warning', ...init });
    state.diagnostics.push(d);
    this.options.onDiagnostic?.(d);
    return d;
  }

  private ownerOf(step: PassStep): PassStep['owner'] {
    const entry = this.environment.passes.entry(step.pass.name);
    return !step.owner.plugin && entry?.pass === step.pass ? entry.owner : step.owner;
  }

  private async runPass(state: RunState, step: PassStep, nesting: readonly string[]): Promise<boolean> {
    const signal = this.options.signal;
    if (signal?.aborted) {
      throw new ModelpassError({ reason: `pipeline cancelled before pass '${step.pass.name}'`, source: '@modelpass/pass-manager', code: 'pipeline/cancelled', cause: signal.reason });
    }
    const { model } = state;
    const owner = this.ownerOf(step);
    const info: PassRunInfo = Object.freeze({
      pass: step.pass,
      passName: step.pass.name,
      owner,
      options: resolvedOptions(step.pass.options, step.options),
      index: ++state.index,
      nesting,
    });
    if (this.instrumentations.some((i) => i.shouldRun && !i.shouldRun(model, info))) {
      state.skipped++;
      return false;
    }
    const statistics = new Map<string, number>(step.pass.statistics.map((name) => [name, 0]));
    const reported: Diagnostic[] = [];
    const context = this.makeContext(state, info, statistics, reported, signal ?? new AbortController().signal);
    let outcome: PassRunOutcome;
    try {
      for (const i of this.instrumentations) i.beforePass?.(model, info);
      const start = performance.now();
      const returned = await settlePassResult(step.pass.run(model, context as PassContext), this.options.passTimeoutMs);
      const durationMs = performance.now() - start;
      const preserved = checkPreserved(returned, info);
      state.analyses.invalidate(model, preserved);
      outcome = Object.freeze({ preserved, changed: !preserved.all, durationMs, statistics, diagnostics: reported });
    } catch (thrown) {
      state.analyses.clear(model);
      throw this.failed(model, info, thrown);
    }
    try {
      for (const i of this.instrumentations) await i.afterPass?.(model, info, outcome);
    } catch (thrown) {
      state.analyses.clear(model);
      throw this.failed(model, info, thrown);
    }
    return outcome.changed;
  }

  private failed(model: Model, info: PassRunInfo, thrown: unknown): PassFailure {
    const error = wrapPassError(thrown, info.passName, info.owner);
    for (const i of this.instrumentations) {
      try {
        i.afterPassFailed?.(model, info, error);
      } catch {
        // A failing failure hook must not hide the pass's own error.
      }
    }
    return error;
  }

  private makeContext(state: RunState, info: PassRunInfo, statistics: Map<string, number>, reported: Diagnostic[], signal: AbortSignal): PassContext {
    const { passName, pass, owner } = info;
    const debug = this.options.debug;
    return Object.freeze({
      options: info.options as PassContext['options'],
      registry: this.environment.ops,
      passName,
      patterns: this.environment.patterns.list(),
      signal,
      statistic: (name: string, delta = 1) => {
        const current = statistics.get(name);
        if (current === undefined) {
          throw new ModelpassError({
            reason: `${describePass(passName, owner)} reports statistic '${name}', which it does not declare`,
            expected: pass.statistics.length ? `one of ${pass.statistics.join(', ')}` : 'no statistics (add it to `statistics` in definePass)',
            source: '@modelpass/pass-manager',
            code: 'pass/undeclared-statistic',
          });
        }
        statistics.set(name, current + delta);
      },
      analysis: <T>(definition: Parameters<PassContext['analysis']>[0]) => state.analyses.get(definition, state.model) as T,
      report: (init: DiagnosticInit) => {
        checkPassReport(init, describePass(passName, owner));
        const d = this.report(state, { source: owner.name, ...init, notes: [...(init.notes ?? []), `reported by ${describePass(passName, owner)}`] });
        reported.push(d);
      },
      debug: (message: string) => {
        if (typeof debug === 'function') debug(message, info);
        else if (debug === true) process.stderr.write(`[${passName}] ${message}\n`);
      },
      preserveAll: () => preservedAnalyses.all(),
      preserveNone: () => preservedAnalyses.none(),
      preserve: (analyses: readonly string[]) => state.analyses.preserve(state.model, analyses, describePass(passName, owner)),
    });
  }
}

function checkPreserved(returned: unknown, info: PassRunInfo): PreservedAnalyses {
  if (returned === undefined) return preservedAnalyses.none();
  if (typeof returned === 'object' && returned !== null && 'all' in returned) {
    const value = returned as PreservedAnalyses;
    if (value.all === true || (value.all === false && value.analyses instanceof Set)) return value;
  }
  throw new ModelpassError({
    reason: `${describePass(info.passName, info.owner)} returned something that is not a set of preserved analyses`,
    expected: 'nothing, or context.preserveAll() / preserveNone() / preserve([...])',
    actual: typeof returned,
    source: '@modelpass/pass-manager',
    code: 'pass/bad-return',
  });
}

function withNotes(error: ModelpassError, notes: readonly string[]): ModelpassError {
  const [first, ...rest] = error.diagnostics;
  const init = [{ ...first!, notes: [...(first!.notes ?? []), ...notes] }, ...rest];
  const annotated = error instanceof PassFailure ? new PassFailure(error.passName, error.owner, init) : new ModelpassError(init);
  if (error.cause !== undefined && annotated.cause === undefined) Object.defineProperty(annotated, 'cause', { value: error.cause, configurable: true, writable: true });
  annotated.stack = error.stack;
  return annotated;
}

/** `new PassManager(options).run(model, pipeline)`. */
export function runPipeline(model: Model, pipeline: PipelineInput, options: PassManagerOptions = {}): Promise<PipelineResult> {
  return new PassManager(options).run(model, pipeline);
}
