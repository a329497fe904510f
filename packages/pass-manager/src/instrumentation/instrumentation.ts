import type { Diagnostic, Model, ModelpassError } from '@modelpass/ir';
import type { PassEnvironment } from '../environment.js';
import type { Pass, PreservedAnalyses } from '../pass.js';
import type { PassOwner } from '../pass-registry.js';
import type { Pipeline } from '../pipeline/pipeline.js';

/** One run of a pipeline, as instrumentations see it. */
export interface PipelineRunInfo {
  readonly pipeline: Pipeline;
  /** Canonical text of the pipeline with every option spelled out (what a reproducer replays). */
  readonly text: string;
  readonly environment: PassEnvironment;
}

/** One execution of a pass inside a pipeline run. */
export interface PassRunInfo {
  readonly pass: Pass;
  readonly passName: string;
  readonly owner: PassOwner;
  /** Resolved options (defaults filled in, camelCase keys). */
  readonly options: Readonly<Record<string, unknown>>;
  /** 1-based number of this pass execution within the pipeline run (`NNN` of IR dump files). */
  readonly index: number;
  /** Enclosing anchors and their iteration, outermost first, e.g. `['fixed-point#2']`. */
  readonly nesting: readonly string[];
}

export interface PassRunOutcome {
  readonly preserved: PreservedAnalyses;
  /** False when the pass returned `preserveAll()`: it reports that it changed nothing. */
  readonly changed: boolean;
  /** Wall time of the pass's `run` alone, in milliseconds. */
  readonly durationMs: number;
  /** The pass's statistics (every declared one, 0 when untouched). */
  readonly statistics: ReadonlyMap<string, number>;
  /** Warnings and notes the pass reported. */
  readonly diagnostics: readonly Diagnostic[];
}

export interface PipelineResult {
  /** Whether any pass reported a change. */
  readonly changed: boolean;
  /** Warnings and notes from passes and anchors (e.g. a fixed point that did not converge). */
  readonly diagnostics: readonly Diagnostic[];
  /** Pass executions (not counting skipped ones). */
  readonly passesRun: number;
  /** Pass executions that a `shouldRun` hook skipped. */
  readonly passesSkipped: number;
}

/** What an `afterPipelineFailed` hook may add to the error the caller sees. */
export interface FailureAnnotation {
  readonly notes?: readonly string[];
}

/**
 * Hooks around pipeline and pass execution. Every hook is optional; several instrumentations can
 * be installed and run in installation order. A hook that throws fails the pass it ran for
 * (that is how verify-each reports broken IR).
 */
export interface PassInstrumentation {
  /** A name for error messages. */
  readonly name?: string;
  beforePipeline?(model: Model, run: PipelineRunInfo): void;
  afterPipeline?(model: Model, run: PipelineRunInfo, result: PipelineResult): void;
  /** After the pipeline failed; may add notes (e.g. where a reproducer was written). */
  afterPipelineFailed?(model: Model, run: PipelineRunInfo, error: ModelpassError): FailureAnnotation | void;
  /** Return false to skip the pass (it then counts as having changed nothing). */
  shouldRun?(model: Model, pass: PassRunInfo): boolean;
  beforePass?(model: Model, pass: PassRunInfo): void;
  /**
   * After the pass ran (and verified). May return a promise, which the pass manager awaits before
   * the next pass (e.g. to run the model on a real runtime, as `modelpass convert --check` does).
   */
  afterPass?(model: Model, pass: PassRunInfo, outcome: PassRunOutcome): void | Promise<void>;
  /** After the pass threw, or an `afterPass` hook rejected its result. */
  afterPassFailed?(model: Model, pass: PassRunInfo, error: ModelpassError): void;
}
