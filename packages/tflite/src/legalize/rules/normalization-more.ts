import { Tensor, type Node, type Value } from '@modelpass/ir';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, normalizeAxis, replaceNode, tensorTypeOf, TfliteEmitter, typeWithShape } from '../lowering-tools.js';

/**
 * Normalizations written with reductions: LpNormalization, MeanVarianceNormalization,
 * RMSNormalization and GlobalLpPool (float32; the reductions keep their dims so the division
 * broadcasts back).
 */

const NONE = { fused_activation_function: 'NONE' };

function float32Input(node: Node): string | undefined {
  const dtype = tensorTypeOf(node.inputs[0])?.dtype;
  if (dtype !== 'float32') return `${node.op} is lowered for float32 only (input is ${dtype ?? 'untyped'})`;
  return dimsOf(node.inputs[0]) ? undefined : `${node.op} needs the input rank (run shape inference first)`;
}

/** TFLite 2.9's SUB/ADD/MUL abort when they broadcast beyond 4-D (DIV does not): a reduced operand meets the full one in these. */
function rankAbove4(node: Node): string | undefined {
  const rank = dimsOf(node.inputs[0])!.length;
  return rank > 4 ? `${node.op} on a rank-${rank} input has no TFLite 2.9 lowering (its ADD/SUB/MUL broadcast at most 4-D)` : undefined;
}

/** Emits `builtin` over `axes` with keep_dims, typed as `x` with those dims set to 1. */
function reduceKeep(emit: TfliteEmitter, builtin: string, x: Value, axes: readonly number[]): Value {
  const dims = dimsOf(x)!;
  return emit.op1(builtin, [x, emit.int32([...axes], [axes.length], 'axes')], { keep_dims: 1 }, typeWithShape(x.type, dims.map((d, i) => (axes.includes(i) ? 1 : d))));
}

function scalar(emit: TfliteEmitter, value: number, name: string): Value {
  return emit.constant(Tensor.scalar('float32', value), name);
}

/** Σ|x|^p over `axes` (kept): x·x for p = 2, |x| for p = 1, POW otherwise. */
function powerSum(emit: TfliteEmitter, x: Value, axes: readonly number[], p: number): Value {
  const type = x.type;
  const magnitude = p === 2 ? emit.op1('MUL', [x, x], NONE, type) : p === 1 ? emit.op1('ABS', [x], {}, type) : emit.op1('POW', [emit.op1('ABS', [x], {}, type), scalar(emit, p, 'p')], {}, type);
  return reduceKeep(emit, 'SUM', magnitude, axes);
}

/** (Σ)^(1/p): SQRT for p = 2, itself for p = 1. */
function root(emit: TfliteEmitter, sum: Value, p: number): Value {
  if (p === 1) return sum;
  if (p === 2) return emit.op1('SQRT', [sum], {}, sum.type);
  return emit.op1('POW', [sum, scalar(emit, 1 / p, 'inverse_p')], {}, sum.type);
}

/** LpNormalization: x / ‖x‖_p along one axis (p = 1 or 2). */
const lpNormalization: LoweringRule = {
  ops: ['onnx.LpNormalization'],
  stage: 'lower',
  targets: ['MUL', 'ABS', 'SUM', 'SQRT', 'DIV'],
  check(node) {
    const problem = float32Input(node);
    if (problem) return problem;
    const p = node.optionalAttr('p', 'int') ?? 2;
    if (p !== 1 && p !== 2) return `LpNormalization p=${p}: ONNX defines p = 1 or 2`;
    return normalizeAxis(node.optionalAttr('axis', 'int') ?? -1, dimsOf(node.inputs[0])!.length) === undefined ? 'the axis is out of range' : undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const x = node.input(0);
    const axis = normalizeAxis(node.optionalAttr('axis', 'int') ?? -1, dimsOf(x)!.length)!;
    const p = node.optionalAttr('p', 'int') ?? 2;
    replaceNode(node, [emit.op1('DIV', [x, root(emit, powerSum(emit, x, [axis], p), p)], NONE, node.output(0).type)]);
  },
};

/** MeanVarianceNormalization: (x − E[x]) / (√Var[x] + 1e-9) over `axes` (default 0, 2, 3), as ONNX's function body adds the epsilon. */
const meanVarianceNormalization: LoweringRule = {
  ops: ['onnx.MeanVarianceNormalization'],
  stage: 'lower',
  targets: ['MEAN', 'SUB', 'MUL', 'SQRT', 'ADD', 'DIV'],
  check(node) {
    const problem = float32Input(node);
    if (problem) return problem;
    const rank = dimsOf(node.inputs[0])!.length;
    const axes = node.optionalAttr('axes', 'ints') ?? [0, 2, 3];
    if (rank > 4) return rankAbove4(node);
    return axes.some((a) => normalizeAxis(a, rank) === undefined) ? `an axis of [${axes.join(', ')}] is out of range for rank ${rank}` : undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const x = node.input(0);
    const rank = dimsOf(x)!.length;
    const axes = [...new Set((node.optionalAttr('axes', 'ints') ?? [0, 2, 3]).map((a) => normalizeAxis(a, rank)!))].sort();
    const type = node.output(0).type;
    const centred = emit.op1('SUB', [x, reduceKeep(emit, 'MEAN', x, axes)], NONE, type);
    const variance = reduceKeep(emit, 'MEAN', emit.op1('MUL', [centred, centred], NONE, type), axes);
    const deviation = emit.op1('ADD', [emit.op1('SQRT', [variance], {}, variance.type), scalar(emit, 1e-9, 'epsilon')], NONE, variance.type);
    replaceNode(node, [emit.op1('DIV', [centred, deviation], NONE, type)]);
  },
};

/** RMSNormalization (opset 23): x · rsqrt(mean(x²) + ε) · scale over the axes from `axis` on. */
const rmsNormalization: LoweringRule = {
  ops: ['onnx.RMSNormalization'],
  stage: 'lower',
  targets: ['MUL', 'MEAN', 'ADD', 'RSQRT'],
  check(node) {
    const problem = float32Input(node);
    if (problem) return problem;
    if (tensorTypeOf(node.inputs[1])?.dtype !== 'float32') return 'RMSNormalization is lowered with a float32 scale only';
    if (rankAbove4(node)) return rankAbove4(node);
    return normalizeAxis(node.optionalAttr('axis', 'int') ?? -1, dimsOf(node.inputs[0])!.length) === undefined ? 'the axis is out of range' : undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const x = node.input(0);
    const rank = dimsOf(x)!.length;
    const axis = normalizeAxis(node.optionalAttr('axis', 'int') ?? -1, rank)!;
    const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
    const type = node.output(0).type;
    const meanSquare = reduceKeep(emit, 'MEAN', emit.op1('MUL', [x, x], NONE, x.type), axes);
    const epsilon = scalar(emit, node.optionalAttr('epsilon', 'float') ?? 1e-5, 'epsilon');
    const inverse = emit.op1('RSQRT', [emit.op1('ADD', [meanSquare, epsilon], NONE, meanSquare.type)], {}, meanSquare.type);
    replaceNode(node, [emit.op1('MUL', [emit.op1('MUL', [x, inverse], NONE, type), node.input(1)], NONE, type)]);
  },
};

/** GlobalLpPool: (Σ|x|^p)^(1/p) over the spatial axes (2…), kept as size 1. */
const globalLpPool: LoweringRule = {
  ops: ['onnx.GlobalLpPool'],
  stage: 'lower',
  targets: ['MUL', 'ABS', 'POW', 'SUM', 'SQRT'],
  check(node) {
    const problem = float32Input(node);
    if (problem) return problem;
    if (dimsOf(node.inputs[0])!.length < 3) return 'GlobalLpPool needs an input of rank ≥ 3 (N, C, spatial…)';
    const p = node.optionalAttr('p', 'int') ?? 2;
    if (p <= 0) return 'GlobalLpPool needs p > 0';
    // p = 1, 2 use ABS / MUL of equal shapes; other p a POW by a scalar, a broadcast TFLite 2.9 stops at 4-D.
    return p === 1 || p === 2 ? undefined : rankAbove4(node);
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const x = node.input(0);
    const rank = dimsOf(x)!.length;
    const p = node.optionalAttr('p', 'int') ?? 2;
    const axes = Array.from({ length: rank - 2 }, (_, i) => i + 2);
    replaceNode(node, [root(emit, powerSum(emit, x, axes, p), p)]);
  },
};

export const normalizationMoreRules: readonly LoweringRule[] = [lpNormalization, meanVarianceNormalization, rmsNormalization, globalLpPool];
