import { tensorType, type Node, type Value } from '@modelpass/ir';
import { numbersOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';
import { reducedAxes } from './reduce.js';

/**
 * Reductions TFLite has no builtin for, written with SUM/REDUCE_MAX and elementwise builtins:
 * ReduceL1 = SUM(|x|), ReduceL2 = SQRT(SUM(x²)), ReduceSumSquare = SUM(x²), ReduceLogSum =
 * LOG(SUM(x)), ReduceLogSumExp = LOG(SUM(EXP(x − max))) + max (no overflow). With noop_with_empty_axes=1 and
 * no axes, the element-wise part alone (see `elementwisePart`).
 */
const COMPOSITE_OPS = ['ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSum', 'ReduceLogSumExp'];

function reducedDims(node: Node, axes: readonly number[], keep: boolean): (number | string | null)[] {
  const dims = dimsOf(node.inputs[0]) ?? [];
  return keep ? dims.map((d, i) => (axes.includes(i) ? 1 : d)) : dims.filter((_, i) => !axes.includes(i));
}

/** noop_with_empty_axes=1 and no axes (opset 18): nothing is reduced. */
function reducesNothing(node: Node): boolean {
  const given = node.optionalAttr('axes', 'ints') ?? (node.inputs[1] ? numbersOf(node.inputs[1]) : undefined);
  return (!given || given.length === 0) && (node.optionalAttr('noop_with_empty_axes', 'int') ?? 0) === 1;
}

/**
 * What ONNX Runtime (1.30, the referee) returns when nothing is reduced: the spec says the input unchanged, but ORT
 * still applies each op's element-wise part — ReduceL1 |x|, ReduceL2 sqrt(x·x) (x·x overflows and underflows as in a
 * reduction of one element), ReduceSumSquare x·x, ReduceLogSum log(x) — and only ReduceLogSumExp returns x as it is.
 */
function elementwisePart(node: Node, emit: TfliteEmitter): Value {
  const x = node.input(0);
  const type = node.output(0).type;
  const square = (): Value => emit.op1('SQUARE', [x], {}, type);
  switch (node.op) {
    case 'onnx.ReduceL1':
      return emit.op1('ABS', [x], {}, type);
    case 'onnx.ReduceL2':
      return emit.op1('SQRT', [square()], {}, type);
    case 'onnx.ReduceSumSquare':
      return square();
    case 'onnx.ReduceLogSum':
      return emit.op1('LOG', [x], {}, type);
    default:
      return x;
  }
}

const reduceComposite: LoweringRule = {
  ops: COMPOSITE_OPS.map((op) => `onnx.${op}`),
  stage: 'lower',
  targets: ['SUM', 'REDUCE_MAX', 'ABS', 'SQUARE', 'SQRT', 'LOG', 'EXP', 'SUB', 'ADD'],
  check(node) {
    if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return `${node.op} is lowered for float32 only`;
    const axes = reducedAxes(node);
    if (typeof axes === 'string') return axes;
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    if (reducesNothing(node)) {
      replaceNode(node, [elementwisePart(node, emit)]);
      return;
    }
    const axes = reducedAxes(node) as number[];
    const keep = (node.optionalAttr('keepdims', 'int') ?? 1) === 1;
    const x = node.input(0);
    const full = x.type;
    const out = node.output(0).type;
    const axesValue = emit.int32(axes, [axes.length], 'axes');
    const sum = (value: Value, keepDims: boolean, type = out): Value => emit.op1('SUM', [value, axesValue], { keep_dims: keepDims ? 1 : 0 }, type);
    const fusible = { fused_activation_function: 'NONE' };
    let y: Value;
    switch (node.op) {
      case 'onnx.ReduceL1':
        y = sum(emit.op1('ABS', [x], {}, full), keep);
        break;
      case 'onnx.ReduceL2':
        y = emit.op1('SQRT', [sum(emit.op1('SQUARE', [x], {}, full), keep)], {}, out);
        break;
      case 'onnx.ReduceSumSquare':
        y = sum(emit.op1('SQUARE', [x], {}, full), keep);
        break;
      case 'onnx.ReduceLogSum':
        y = emit.op1('LOG', [sum(x, keep)], {}, out);
        break;
      default: {
        const keptType = tensorType('float32', reducedDims(node, axes, true));
        const peak = emit.op1('REDUCE_MAX', [x, axesValue], { keep_dims: 1 }, keptType);
        const shifted = emit.op1('EXP', [emit.op1('SUB', [x, peak], fusible, full)], {}, full);
        const peakOut = keep ? peak : emit.op1('REDUCE_MAX', [x, axesValue], { keep_dims: 0 }, out);
        y = emit.op1('ADD', [emit.op1('LOG', [sum(shifted, keep)], {}, out), peakOut], fusible, out);
      }
    }
    replaceNode(node, [y]);
  },
};

export const reduceCompositeRules: readonly LoweringRule[] = [reduceComposite];
