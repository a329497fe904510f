import type { Diagnostic, DiagnosticInit, Model, OpRegistry, RewritePattern } from '@modelpass/ir';
import type { OptionSpecs, OptionValues } from './option.js';
import { registerAnalysisName } from './analysis-names.js';

/** Names of analyses a pass keeps valid; `'all'` when it changed nothing they depend on. */
export type PreservedAnalyses = { readonly all: true } | { readonly all: false; readonly analyses: ReadonlySet<string> };

/** A cached fact about a model (shapes, use counts, ...), computed on demand. */
export interface AnalysisDefinition<T> {
  readonly name: string;
  compute(model: Model, context: { registry: OpRegistry }): T;
}

/**
 * Defines an analysis. Its name becomes one `context.preserve([...])` accepts (names must be
 * kebab-case, like pass names).
 */
export function defineAnalysis<T>(definition: AnalysisDefinition<T>): AnalysisDefinition<T> {
  if (!PASS_NAME.test(definition.name)) throw new TypeError(`analysis name '${definition.name}' must be kebab-case (lowercase words joined by '-')`);
  if (typeof definition.compute !== 'function') throw new TypeError(`analysis '${definition.name}' has no compute function`);
  registerAnalysisName(definition.name);
  return Object.freeze({ ...definition });
}

/** What a running pass can use. */
export interface PassContext<O extends OptionSpecs = OptionSpecs> {
  /** Resolved options (defaults filled in). */
  readonly options: OptionValues<O>;
  /** Op schemas of the canonical op set plus every loaded plugin's ops. */
  readonly registry: OpRegistry;
  /** Name of the running pass. */
  readonly passName: string;
  /**
   * Rewrite patterns contributed by loaded plugins (`definePlugin({ patterns })`), in load order;
   * a `canonicalize` pass adds them to its own.
   */
  readonly patterns: readonly RewritePattern[];
  /** Adds to a statistic the pass declared. */
  statistic(name: string, delta?: number): void;
  /**
   * Whether anything reads statistic `name` (absent: assume so). A composite pass that drops a nested pass's
   * statistics says no, so the nested pass may skip work done only to count them (whole-graph walks).
   */
  collectsStatistic?(name: string): boolean;
  /** A cached analysis result; invalidated by passes that do not preserve it. */
  analysis<T>(definition: AnalysisDefinition<T>): T;
  /** Reports a warning or note (errors should be thrown as ModelpassError). */
  report(diagnostic: DiagnosticInit): void;
  /** Debug log, shown with `--debug` or a `debug` instrumentation; silent otherwise. */
  debug(message: string): void;
  /** Cancellation for long (async) passes. */
  readonly signal: AbortSignal;
  preserveAll(): PreservedAnalyses;
  preserveNone(): PreservedAnalyses;
  preserve(analyses: readonly string[]): PreservedAnalyses;
}

export interface PassDefinition<O extends OptionSpecs = OptionSpecs> {
  /** Kebab-case name used in pipeline text, e.g. `prune-magnitude`. */
  readonly name: string;
  /** One line for `modelpass passes`. */
  readonly summary: string;
  /** Longer help text. */
  readonly description?: string;
  readonly options?: O;
  /** Names of the statistics the pass may report. */
  readonly statistics?: readonly string[];
  /**
   * Transforms the model in place. Returns what it preserved (nothing, when it returns void).
   * May be async (calibration, training).
   */
  run(model: Model, context: PassContext<O>): PreservedAnalyses | void | Promise<PreservedAnalyses | void>;
}

export interface Pass<O extends OptionSpecs = OptionSpecs> extends PassDefinition<O> {
  readonly options: O;
  readonly statistics: readonly string[];
  /** Marks a value made by `definePass`. */
  readonly kind: 'modelpass.pass';
}

const PASS_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Checks and freezes a pass definition. */
export function definePass<const O extends OptionSpecs = {}>(definition: PassDefinition<O>): Pass<O> {
  if (!PASS_NAME.test(definition.name)) {
    throw new TypeError(`pass name '${definition.name}' must be kebab-case (lowercase words joined by '-')`);
  }
  if (typeof definition.run !== 'function') throw new TypeError(`pass '${definition.name}' has no run function`);
  return Object.freeze({
    ...definition,
    options: (definition.options ?? {}) as O,
    statistics: definition.statistics ?? [],
    kind: 'modelpass.pass' as const,
  });
}

export type { Diagnostic };
