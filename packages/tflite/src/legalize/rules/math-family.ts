import type { LoweringRule } from '../lowering-rule.js';
import { batchNormHighRankRules } from './batch-norm-high-rank.js';
import { bitwiseRules } from './bitwise.js';
import { constantOutputRules } from './constant-output.js';
import { cumulativeProductRules } from './cumulative-product.js';
import { determinantRules } from './determinant.js';
import { lpPoolRules } from './lp-pool.js';
import { matrixInverseRules } from './matrix-inverse.js';
import { normalizationMoreRules } from './normalization-more.js';
import { hardmaxRules } from './hardmax.js';
import { logicMoreRules } from './logic-more.js';
import { mathUnaryRules } from './math-unary.js';
import { randomRules } from './random.js';
import { triangularRules } from './triangular.js';
import { windowRules } from './windows.js';

/** Elementwise math, tests, matrix generators, bitwise, normalizations, windows and random ops without a builtin of their own. */
export const mathFamilyRules: readonly LoweringRule[] = [...mathUnaryRules, ...logicMoreRules, ...triangularRules, ...hardmaxRules, ...constantOutputRules, ...bitwiseRules, ...normalizationMoreRules, ...lpPoolRules, ...cumulativeProductRules, ...determinantRules, ...batchNormHighRankRules, ...windowRules, ...randomRules, ...matrixInverseRules];
