import type { LoweringRegistry } from './lowering-rule.js';
import { ONNX2TF_OPS } from './onnx2tf-ops.js';
import { defaultLoweringRules } from './rules/index.js';

/**
 * Which of onnx2tf's ONNX ops `legalize-tflite` converts, and how: by a lowering rule (its
 * builtins), before lowering (the preparation's rewrites, fold-constants, the QOperator → QDQ
 * expansion of quantized models), refused per node by a rule that explains why (a rule with no
 * targets), or not at all. `node packages/tflite/scripts/coverage.mjs` prints it.
 */

export type CoverageKind = 'lowered' | 'before-lowering' | 'refused' | 'missing';

export interface OpCoverage {
  readonly op: string;
  readonly kind: CoverageKind;
  /** The builtins (lowered), the step that handles it (before-lowering), or empty. */
  readonly how: string;
}

const QOPERATOR = 'prepare-quantized: rewritten to its QDQ form, then int8 builtins';

/** Ops handled before the lowering rules run (facts about `prepare.ts`, fold-constants and `quantized/expand-qoperator.ts`). */
export const HANDLED_BEFORE_LOWERING: Readonly<Record<string, string>> = {
  Input: 'a graph input (onnx2tf’s handler of graph inputs, not an op)',
  GlobalAveragePool: 'prepare: ReduceMean over the spatial axes → MEAN',
  GlobalMaxPool: 'prepare: ReduceMax over the spatial axes → REDUCE_MAX',
  MelWeightMatrix: 'fold-constants: computed when its inputs are constants (run-time inputs are refused)',
  QLinearConv: QOPERATOR,
  QLinearMatMul: QOPERATOR,
  QGemm: QOPERATOR,
  QLinearAdd: QOPERATOR,
  QLinearMul: QOPERATOR,
  QLinearSigmoid: QOPERATOR,
  QLinearAveragePool: QOPERATOR,
  QLinearGlobalAveragePool: QOPERATOR,
  QLinearLeakyRelu: QOPERATOR,
  QLinearSoftmax: QOPERATOR,
  QLinearConcat: QOPERATOR,
};

const DOMAINS = ['onnx', 'com.microsoft'];

/** The coverage of each of `ops` (default: onnx2tf's list) by `rules` (default: this package's). */
export function onnx2tfCoverage(rules: LoweringRegistry = defaultLoweringRules(), ops: readonly string[] = ONNX2TF_OPS): OpCoverage[] {
  return ops.map((op) => {
    const rule = DOMAINS.map((domain) => rules.get(`${domain}.${op}`)).find((found) => found !== undefined);
    if (rule && rule.targets.length > 0) return { op, kind: 'lowered', how: rule.targets.join(', ') };
    const before = HANDLED_BEFORE_LOWERING[op];
    if (before) return { op, kind: 'before-lowering', how: before };
    return { op, kind: rule ? 'refused' : 'missing', how: '' };
  });
}

/** Counts per kind; `covered` = lowered + before-lowering. */
export function summarizeCoverage(coverage: readonly OpCoverage[]): Record<CoverageKind | 'covered' | 'total', number> {
  const count = (kind: CoverageKind) => coverage.filter((entry) => entry.kind === kind).length;
  return {
    total: coverage.length,
    covered: count('lowered') + count('before-lowering'),
    lowered: count('lowered'),
    'before-lowering': count('before-lowering'),
    refused: count('refused'),
    missing: count('missing'),
  };
}
