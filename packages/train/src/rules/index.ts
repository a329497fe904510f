import { GradientRuleRegistry, type GradientRule } from '../rule-registry.js';
import { activationRules } from './activations.js';
import { arithmeticRules } from './arithmetic.js';
import { convRules } from './conv.js';
import { elementwiseRules } from './elementwise.js';
import { fakeQuantRules } from './fake-quant.js';
import { indexingRules } from './indexing.js';
import { linearRules } from './linear.js';
import { normalizationRules } from './normalization.js';
import { poolingRules } from './pooling.js';
import { selectionRules } from './selection.js';
import { shapeRules } from './shape-ops.js';
import { softmaxReduceRules } from './softmax-reduce.js';

export const builtinGradientRules: readonly GradientRule[] = [
  ...elementwiseRules, ...arithmeticRules, ...softmaxReduceRules, ...shapeRules, ...indexingRules,
  ...linearRules, ...convRules, ...normalizationRules, ...poolingRules, ...activationRules, ...selectionRules,
  ...fakeQuantRules,
];

/** A registry with every built-in rule; `register` adds or overrides one. */
export function createGradientRuleRegistry(): GradientRuleRegistry {
  return new GradientRuleRegistry(builtinGradientRules);
}
