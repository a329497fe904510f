import { applyPatternsGreedily, PatternSet, type Model, type RewritePattern } from '@modelpass/ir';
import { definePass, type OptionSpecs, type Pass, type PassContext, type PreservedAnalyses } from '@modelpass/pass-manager';
import { bindPatterns, type PatternEnv, type TransformPattern } from '../patterns/pattern.js';
import { removeDeadCode, snapshotDead } from '../util/dead-code.js';
import { constantBytes, countNodes } from '../util/graph-walk.js';

/** Statistics every pattern-driven pass reports. */
export const PATTERN_PASS_STATISTICS = ['rewrites', 'nodes-removed', 'nodes-fused', 'bytes-saved'] as const;

export interface PatternPassInit {
  name: string;
  summary: string;
  description?: string;
  patterns: readonly TransformPattern[];
  /** Also apply the rewrite patterns that loaded plugins contribute (canonicalize does). */
  pluginPatterns?: boolean;
}

export function patternEnv(model: Model, context: PassContext<OptionSpecs>, declared: readonly string[]): PatternEnv {
  return {
    model,
    debug: (message) => context.debug(message),
    count: (statistic, delta = 1) => {
      if (declared.includes(statistic)) context.statistic(statistic, delta);
    },
  };
}

/**
 * Applies patterns to a fixed point over the model (subgraphs included), then erases what the
 * rewrites left dead (only that: dead code that was there before stays for `dce`).
 * Returns whether anything changed.
 */
export function runPatterns(model: Model, context: PassContext<OptionSpecs>, patterns: readonly RewritePattern[]): boolean {
  const nodesBefore = countNodes(model);
  const bytesBefore = constantBytes(model);
  const deadBefore = snapshotDead(model);
  const result = applyPatternsGreedily(model.graph, new PatternSet(patterns), { maxIterations: 50, model, registry: context.registry });
  for (const diagnostic of result.diagnostics) context.report(diagnostic);
  if (result.changed) removeDeadCode(model, { filter: (item) => !deadBefore.has(item) });
  context.statistic('rewrites', result.rewrites);
  context.statistic('nodes-removed', Math.max(0, nodesBefore - countNodes(model)));
  context.statistic('bytes-saved', bytesBefore - constantBytes(model));
  return result.changed;
}

export function preserved(context: PassContext<OptionSpecs>, changed: boolean): PreservedAnalyses {
  return changed ? context.preserveNone() : context.preserveAll();
}

/** A pass that applies a fixed table of patterns (plus plugin patterns when asked). */
export function definePatternPass(init: PatternPassInit): Pass<{}> {
  const statistics = [...PATTERN_PASS_STATISTICS];
  return definePass({
    name: init.name,
    summary: init.summary,
    ...(init.description ? { description: init.description } : {}),
    statistics,
    run(model, context) {
      const env = patternEnv(model, context, statistics.filter((s) => s !== 'nodes-removed'));
      const patterns = [...bindPatterns(init.patterns, env), ...(init.pluginPatterns ? context.patterns : [])];
      return preserved(context, runPatterns(model, context, patterns));
    },
  });
}
