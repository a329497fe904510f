import { ModelpassError } from '@modelpass/ir';
import { adamwOptimizer } from './adamw.js';
import type { OptimizerRule, OptimizerSpec } from './optimizer-rule.js';
import { sgdOptimizer } from './sgd.js';

export type { AdamWSpec, OptimizerRule, OptimizerSpec, OptimizerUpdate, SgdSpec } from './optimizer-rule.js';
export { defineOptimizer } from './optimizer-rule.js';

/** The optimizers by kind. */
export const optimizerRules: ReadonlyMap<string, OptimizerRule> = new Map<string, OptimizerRule>([
  ['sgd', sgdOptimizer as OptimizerRule],
  ['adamw', adamwOptimizer as OptimizerRule],
]);

export function optimizerRule(spec: OptimizerSpec): OptimizerRule {
  const rule = optimizerRules.get(spec.kind);
  if (!rule) throw new ModelpassError({ reason: `unknown optimizer '${String(spec.kind)}'`, expected: [...optimizerRules.keys()].join(', '), source: '@modelpass/train' });
  rule.check(spec);
  return rule;
}
export { optimizerStepModel, type OptimizerStepModel } from './optimizer-step-model.js';
