/**
 * Raise rules for shape, reduction and matrix builtins among tf2onnx's TFLite op names (issue 12 item 2, s14):
 * BROADCAST_TO, ZEROS_LIKE, RANK, REDUCE_ALL, REDUCE_ANY, REVERSE_V2, MATRIX_DIAG, MATRIX_SET_DIAG.
 */
import { attrs, onnxCodeOf, Tensor, type DType, type Node, type Type, type Value } from '@modelpass/ir';
import { numbersOf } from '../../legalize/constant-values.js';
import { dimsOf, normalizeAxis, rankOfValue, tensorTypeOf } from '../../legalize/lowering-tools.js';
import { CanonicalEmitter, replaceRaised } from '../canonical-emitter.js';
import type { RaiseContext, RaiseRule } from '../raise-rule.js';
import { withDtype } from './retyped.js';
import { int64Operand } from './shape.js';


/** BROADCAST_TO(x, shape) → Expand(x, shape): for a shape x broadcasts to (what TFLite accepts), the same result. */
const broadcastTo: RaiseRule = {
  ops: ['tflite.BROADCAST_TO'],
  targets: ['Expand', 'Cast'],
  check: (node) => (node.inputs[1] ? undefined : 'BROADCAST_TO without a shape operand'),
  raise(node) {
    const emit = new CanonicalEmitter(node);
    replaceRaised(node, [emit.op1('Expand', [node.input(0), int64Operand(emit, node.input(1), 'shape')], {}, node.output(0).type)]);
  },
};

/** ZEROS_LIKE(x) → ConstantOfShape(Shape(x), 0 of x's dtype): zeros even where x is NaN or ±∞ (a Mul by 0 would not be). */
const zerosLike: RaiseRule = {
  ops: ['tflite.ZEROS_LIKE'],
  targets: ['ConstantOfShape', 'Shape'],
  check: (node) => {
    const type = tensorTypeOf(node.outputs[0]);
    if (!type || type.quant) return `ZEROS_LIKE of ${type?.quant ? 'quantized ' : ''}${type?.dtype ?? 'unknown'} values: only plain tensors are raised`;
    return ['string', 'complex64', 'complex128'].includes(type.dtype) ? `ZEROS_LIKE of ${type.dtype}: ConstantOfShape has no such value` : undefined;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const dtype = tensorTypeOf(node.outputs[0])!.dtype;
    const rank = rankOfValue(node.inputs[0]);
    const shape = emit.op1('Shape', [node.input(0)], {}, { kind: 'tensor', dtype: 'int64', shape: [rank ?? null] } as Type);
    const zero = dtype === 'int64' || dtype === 'uint64' ? Tensor.fromValues(dtype, [1], [0n]) : dtype === 'bool' ? Tensor.fromValues('bool', [1], [false]) : Tensor.fromValues(dtype, [1], [0]);
    replaceRaised(node, [emit.op1('ConstantOfShape', [shape], { value: attrs.tensor(zero) }, node.output(0).type)]);
  },
};

/** RANK(x) → Size(Shape(x)), an int64 scalar, cast to RANK's int32 (a run-time rank included). */
const rank: RaiseRule = {
  ops: ['tflite.RANK'],
  targets: ['Shape', 'Size', 'Cast'],
  check: () => undefined,
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const out = node.output(0).type;
    const shape = emit.op1('Shape', [node.input(0)], {}, { kind: 'tensor', dtype: 'int64', shape: [rankOfValue(node.inputs[0]) ?? null] } as Type);
    const size = emit.op1('Size', [shape], {}, { kind: 'tensor', dtype: 'int64', shape: [] } as Type);
    const dtype = tensorTypeOf(node.outputs[0])?.dtype ?? 'int32';
    replaceRaised(node, [dtype === 'int64' ? size : emit.op1('Cast', [size], { to: attrs.int(onnxCodeOf(dtype)) }, out)]);
  },
};

/** Constant axes of a reduction-like node, normalized; a message when they are not constant or the rank is unknown. */
function constantAxes(node: { inputs: readonly (Value | null)[] }, index: number): number[] | string {
  const axes = numbersOf(node.inputs[index]);
  const r = rankOfValue(node.inputs[0]);
  if (!axes || r === undefined) return 'the axes must be a constant and the input rank known';
  const normalized = axes.map((a) => normalizeAxis(a, r));
  if (normalized.some((a) => a === undefined)) return `axes [${axes.join(',')}] out of range for rank ${r}`;
  return [...new Set(normalized as number[])].sort((a, b) => a - b);
}

/** A rule's check: why input 1 is not usable constant axes, or undefined when it is. */
function constantAxesReason(node: { inputs: readonly (Value | null)[] }): string | undefined {
  const axes = constantAxes(node, 1);
  return typeof axes === 'string' ? axes : undefined;
}

/** The node's constant axes (checked by `constantAxesReason`); none reduce or reverse nothing, so the node is raised as Identity and undefined returned. */
function axesOrIdentity(node: Node, emit: CanonicalEmitter): number[] | undefined {
  const axes = constantAxes(node, 1) as number[];
  if (axes.length > 0) return axes;
  replaceRaised(node, [emit.op1('Identity', [node.input(0)], {}, node.output(0).type)]);
  return undefined;
}

/**
 * REDUCE_ALL / REDUCE_ANY over bools: ONNX reductions take no bool, so Cast to int32, ReduceMin (all) / ReduceMax (any),
 * Cast back to bool. Empty axes reduce nothing in TFLite: Identity.
 */
const reduceLogical: RaiseRule = {
  ops: ['tflite.REDUCE_ALL', 'tflite.REDUCE_ANY'],
  targets: ['Cast', 'ReduceMin', 'ReduceMax', 'Identity'],
  check: constantAxesReason,
  raise(node, context: RaiseContext) {
    const emit = new CanonicalEmitter(node);
    const axes = axesOrIdentity(node, emit);
    if (!axes) return;
    const out = node.output(0).type;
    const op = node.op === 'tflite.REDUCE_ALL' ? 'ReduceMin' : 'ReduceMax';
    const keepdims = attrs.int(node.optionalAttr('keep_dims', 'int') ?? 0);
    const asInt = emit.op1('Cast', [node.input(0)], { to: attrs.int(6) }, withDtype(node.input(0).type, 'int32'));
    const reduced = context.opset >= 18
      ? emit.op1(op, [asInt, emit.int64(axes, 'axes')], { keepdims }, withDtype(out, 'int32'))
      : emit.op1(op, [asInt], { axes: attrs.ints(axes), keepdims }, withDtype(out, 'int32'));
    replaceRaised(node, [emit.at.op1('onnx.Cast', [reduced], { to: attrs.int(9) }, { types: [out], name: `${node.name}_to_bool` })]);
  },
};

/** The most negative int64: a Slice end before index 0 whatever the dim, for a step of −1. */
const BEFORE_THE_START = -(2 ** 63);

/** REVERSE_V2(x, axes) → Slice(x, starts −1, ends before the start, those axes, steps −1); no axes: Identity. */
const reverseV2: RaiseRule = {
  ops: ['tflite.REVERSE_V2'],
  targets: ['Slice', 'Identity'],
  check: constantAxesReason,
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const axes = axesOrIdentity(node, emit);
    if (!axes) return;
    const out = node.output(0).type;
    const k = axes.length;
    const inputs = [node.input(0), emit.int64(new Array(k).fill(-1), 'starts'), emit.int64(new Array(k).fill(BEFORE_THE_START), 'ends'), emit.int64(axes, 'axes'), emit.int64(new Array(k).fill(-1), 'steps')];
    replaceRaised(node, [emit.op1('Slice', inputs, {}, out)]);
  },
};

/** A constant bool [rows, cols] that is true where row = column. */
function diagonalMask(emit: CanonicalEmitter, rows: number, cols: number): Value {
  const values = Array.from({ length: rows * cols }, (_, i) => Math.floor(i / cols) === i % cols);
  return emit.constant(Tensor.fromValues('bool', [rows, cols], values), 'diagonal_mask');
}

function zeroOf(dtype: DType): Tensor {
  if (dtype === 'int64' || dtype === 'uint64') return Tensor.scalar(dtype, 0n);
  if (dtype === 'bool') return Tensor.scalar('bool', false);
  return Tensor.scalar(dtype, 0);
}

/** The last `count` dims of `value` as numbers, or undefined when any is unknown. */
function trailingDims(value: Value | null | undefined, count: number): number[] | undefined {
  const dims = dimsOf(value);
  if (!dims || dims.length < count) return undefined;
  const tail = dims.slice(dims.length - count);
  return tail.every((d) => typeof d === 'number' && d >= 0) ? (tail as number[]) : undefined;
}

/** MATRIX_DIAG(d [..., n]) → Where(eye [n, n], Unsqueeze(d, −1), 0): d[i] at (i, i), zeros elsewhere (NaNs stay on the diagonal). */
const matrixDiag: RaiseRule = {
  ops: ['tflite.MATRIX_DIAG'],
  targets: ['Unsqueeze', 'Where'],
  check: (node) => (trailingDims(node.inputs[0], 1) ? undefined : 'MATRIX_DIAG needs the diagonal\'s last dim known'),
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const [n] = trailingDims(node.inputs[0], 1)!;
    const d = node.input(0);
    const dims = dimsOf(d)!;
    const dtype = tensorTypeOf(d)!.dtype;
    const column = emit.op1('Unsqueeze', [d, emit.int64([-1], 'axes')], {}, withDtype(d.type, dtype, [...dims, 1]));
    const zero = emit.constant(zeroOf(dtype), 'zero');
    replaceRaised(node, [emit.op1('Where', [diagonalMask(emit, n!, n!), column, zero], {}, node.output(0).type)]);
  },
};

/**
 * MATRIX_SET_DIAG(x [..., m, n], d [..., min(m, n)]) → Where(eye [m, n], d spread, x): d as a column ([..., m, 1]) when
 * m ≤ n, as a row ([..., 1, n]) when m > n, so that (i, i) reads d[i].
 */
const matrixSetDiag: RaiseRule = {
  ops: ['tflite.MATRIX_SET_DIAG'],
  targets: ['Unsqueeze', 'Where'],
  check: (node) => (trailingDims(node.inputs[0], 2) ? undefined : 'MATRIX_SET_DIAG needs the input\'s last two dims known'),
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const [m, n] = trailingDims(node.inputs[0], 2)!;
    const d = node.input(1);
    const dims = dimsOf(d) ?? null;
    const axis = m! <= n! ? -1 : -2;
    const shape = dims ? (axis === -1 ? [...dims, 1] : [...dims.slice(0, -1), 1, dims[dims.length - 1]!]) : null;
    const spread = emit.op1('Unsqueeze', [d, emit.int64([axis], 'axes')], {}, withDtype(d.type, tensorTypeOf(d)!.dtype, shape));
    replaceRaised(node, [emit.op1('Where', [diagonalMask(emit, m!, n!), spread, node.input(0)], {}, node.output(0).type)]);
  },
};

export const tf2onnxShapeRaiseRules: readonly RaiseRule[] = [broadcastTo, zerosLike, rank, reduceLogical, reverseV2, matrixDiag, matrixSetDiag];
