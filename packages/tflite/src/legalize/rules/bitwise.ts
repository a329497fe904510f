import { Tensor, tensorType, type DType, type Dim, type Node, type Value } from '@modelpass/ir';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';
import { Composer, elementwiseInput, flattenProblem, reshapeTarget } from './compose.js';

/**
 * Bitwise ops without TFLite 2.9 builtins (BITWISE_XOR and RIGHT_SHIFT came later), in int32
 * arithmetic. And/Or/Xor split each operand into its bits along a new last axis (FLOOR_DIV by
 * 2^b, FLOOR_MOD 2; the sign bit of int32 as x < 0), combine the bits (MINIMUM, MAXIMUM, sum mod 2)
 * and SUM them back with weights 2^b (−2^(n−1) for a signed top bit). Narrow ints are CAST to int32
 * and back (the cast wraps, as two's complement does); uint32 is reinterpreted as int32 the same way.
 * int64/uint64 (no int64 FLOOR_DIV in TFLite 2.9) and uint16 (no CAST kernel) are refused.
 */

interface BitLayout {
  readonly bits: number;
  /** Whether the top bit weighs −2^(n−1) in the int32 the dtype is computed in. */
  readonly signed: boolean;
}

const LAYOUTS: Partial<Record<DType, BitLayout>> = {
  int8: { bits: 8, signed: true },
  uint8: { bits: 8, signed: false },
  int16: { bits: 16, signed: true },
  int32: { bits: 32, signed: true },
  uint32: { bits: 32, signed: true },
};

const SUPPORTED = Object.keys(LAYOUTS).join(', ');

function layoutProblem(node: Node): string | undefined {
  const dtypes = node.inputs.map((input) => tensorTypeOf(input)?.dtype);
  const dtype = dtypes[0];
  if (!dtype || !LAYOUTS[dtype]) return `${node.op} on ${dtype ?? 'untyped'} tensors has no TFLite 2.9 lowering (takes ${SUPPORTED}; int64 would need an int64 FLOOR_DIV, uint16 a CAST kernel)`;
  if (dtypes.some((d) => d !== dtype)) return `${node.op} operands must have one dtype`;
  return undefined;
}

function toInt32(c: Composer, x: Value): Value {
  return tensorTypeOf(x)!.dtype === 'int32' ? x : c.cast(x, 'int32');
}

function fromInt32(c: Composer, x: Value, dtype: DType): Value {
  return dtype === 'int32' ? x : c.cast(x, dtype);
}

/** The bits of int32 `x` (dims `dims` + a unit last axis) as 0/1 int32 along a new last axis of `layout.bits`. */
function bitsOf(emit: TfliteEmitter, x: Value, dims: readonly Dim[], layout: BitLayout): Value {
  const n = layout.bits;
  const low = Math.min(n, 31);
  const expanded = emit.op1('RESHAPE', [x, emit.int32(reshapeTarget([...dims, 1])!, [dims.length + 1], 'expand')], {}, tensorType('int32', [...dims, 1]));
  const powers = emit.int32(Array.from({ length: low }, (_, b) => 2 ** b), [low], 'powers');
  const shifted = emit.op1('FLOOR_DIV', [expanded, powers], {}, tensorType('int32', [...dims, low]));
  const lowBits = emit.op1('FLOOR_MOD', [shifted, emit.int32([2], [], 'two')], {}, tensorType('int32', [...dims, low]));
  if (n < 32) return lowBits;
  const negative = emit.op1('LESS', [expanded, emit.int32([0], [], 'zero')], {}, tensorType('bool', [...dims, 1]));
  const sign = emit.op1('CAST', [negative], { in_data_type: 'BOOL', out_data_type: 'INT32' }, tensorType('int32', [...dims, 1]));
  return emit.op1('CONCATENATION', [lowBits, sign], { axis: dims.length, fused_activation_function: 'NONE' }, tensorType('int32', [...dims, n]));
}

/** Σ bits·2^b over the last axis (the top bit −2^(n−1) when signed). */
function fromBits(emit: TfliteEmitter, bits: Value, dims: readonly Dim[], layout: BitLayout): Value {
  const n = layout.bits;
  const weights = Array.from({ length: n }, (_, b) => (b === n - 1 && layout.signed ? -(2 ** b) : 2 ** b));
  const weighted = emit.op1('MUL', [bits, emit.int32(weights, [n], 'weights')], { fused_activation_function: 'NONE' }, tensorType('int32', [...dims, n]));
  return emit.op1('SUM', [weighted, emit.int32([dims.length], [1], 'bit_axis')], { keep_dims: 0 }, tensorType('int32', dims));
}

const COMBINE: Readonly<Record<string, (emit: TfliteEmitter, a: Value, b: Value, type: ReturnType<typeof tensorType>) => Value>> = {
  'onnx.BitwiseAnd': (emit, a, b, type) => emit.op1('MINIMUM', [a, b], {}, type),
  'onnx.BitwiseOr': (emit, a, b, type) => emit.op1('MAXIMUM', [a, b], {}, type),
  'onnx.BitwiseXor': (emit, a, b, type) => emit.op1('FLOOR_MOD', [emit.op1('ADD', [a, b], { fused_activation_function: 'NONE' }, type), emit.int32([2], [], 'two')], {}, type),
};

const binaryBitwise: LoweringRule = {
  ops: Object.keys(COMBINE),
  stage: 'lower',
  targets: ['CAST', 'RESHAPE', 'FLOOR_DIV', 'FLOOR_MOD', 'LESS', 'CONCATENATION', 'MINIMUM', 'MAXIMUM', 'ADD', 'MUL', 'SUM'],
  check(node) {
    const problem = layoutProblem(node);
    if (problem) return problem;
    const [a, b, out] = [dimsOf(node.inputs[0]), dimsOf(node.inputs[1]), dimsOf(node.outputs[0])];
    if (!a || !b || !out) return `${node.op} needs its operand and result shapes (run shape inference first)`;
    if (JSON.stringify(a) === JSON.stringify(b)) return reshapeTarget(a) ? undefined : `${node.op} on operands with more than one unknown dim cannot be flattened`;
    if (out.length > 3) return `${node.op} broadcasting operands of rank > 3 has no TFLite 2.9 lowering (the bits take a 4th axis; its integer kernels broadcast at most 4-D)`;
    return reshapeTarget(a) && reshapeTarget(b) ? undefined : `${node.op} operands may have at most one unknown dim each`;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const dtype = tensorTypeOf(node.inputs[0])!.dtype;
    const layout = LAYOUTS[dtype]!;
    const outDims = dimsOf(node.outputs[0])!;
    const [aDims, bDims] = [dimsOf(node.inputs[0])!, dimsOf(node.inputs[1])!];
    const c = new Composer(emit, outDims, 'int32');
    let [a, b] = [toInt32(c, node.input(0)), toInt32(c, node.input(1))];
    let [workA, workB, workOut] = [aDims, bDims, outDims];
    const flatten = JSON.stringify(aDims) === JSON.stringify(bDims);
    if (flatten) {
      const size: Dim = aDims.every((d) => typeof d === 'number') ? (aDims as number[]).reduce((n, d) => n * d, 1) : `${node.name}_flat`;
      const flat = (v: Value) => emit.op1('RESHAPE', [v, emit.int32([-1], [1], 'flat')], {}, tensorType('int32', [size]));
      [a, b] = [flat(a), flat(b)];
      [workA, workB, workOut] = [[size], [size], [size]];
    }
    const combined = COMBINE[node.op]!(emit, bitsOf(emit, a, workA, layout), bitsOf(emit, b, workB, layout), tensorType('int32', [...workOut, layout.bits]));
    let y = fromBits(emit, combined, workOut, layout);
    if (flatten) y = emit.op1('RESHAPE', [y, emit.int32(reshapeTarget(outDims)!, [outDims.length], 'shape')], {}, tensorType('int32', outDims));
    replaceNode(node, [fromInt32(c, y, dtype)]);
  },
};

/** BitwiseNot: −1 − x in int32 (int64 in int64); uint8 as 255 − x. */
const bitwiseNot: LoweringRule = {
  ops: ['onnx.BitwiseNot'],
  stage: 'lower',
  targets: ['CAST', 'SUB', 'RESHAPE'],
  check(node) {
    const dtype = tensorTypeOf(node.inputs[0])?.dtype;
    if (dtype !== 'int64' && !(dtype && LAYOUTS[dtype])) return `BitwiseNot on ${dtype ?? 'untyped'} tensors has no TFLite 2.9 lowering (takes ${SUPPORTED}, int64)`;
    return flattenProblem(node.inputs[0]);
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const dtype = tensorTypeOf(node.inputs[0])!.dtype;
    const work: DType = dtype === 'int64' ? 'int64' : 'int32';
    const { composer: c, x, restore } = elementwiseInput(node, emit, node.input(0), work);
    const wide = work === 'int64' ? x : toInt32(c, x);
    const all = c.scalar(dtype === 'uint8' ? 255 : -1, work);
    replaceNode(node, [restore(work === 'int64' ? c.sub(all, wide) : fromInt32(c, c.sub(all, wide), dtype))]);
  },
};

/** uint8 shifts in int32: x·2^min(y, 8) mod 256 (LEFT), ⌊x / 2^min(y, 8)⌋ (RIGHT). */
function shiftUint8(emit: TfliteEmitter, node: Node, left: boolean): Value {
  const c = new Composer(emit, dimsOf(node.outputs[0])!, 'int32');
  const cast = (v: Value) => emit.op1('CAST', [v], { in_data_type: 'UINT8', out_data_type: 'INT32' }, tensorType('int32', dimsOf(v)!));
  const [x, y] = [cast(node.input(0)), cast(node.input(1))];
  const yDims = dimsOf(node.inputs[1])!;
  const amount = emit.op1('MINIMUM', [y, emit.int32([8], [], 'eight')], {}, tensorType('int32', yDims));
  const power = emit.op1('POW', [emit.int32([2], [], 'two'), amount], {}, tensorType('int32', yDims));
  const shifted = left ? c.binary('FLOOR_MOD', c.mul(x, power), emit.constant(Tensor.scalar('int32', 256), 'byte')) : c.binary('FLOOR_DIV', x, power);
  return c.cast(shifted, 'uint8');
}

/**
 * uint32 shifts in int64 (TFLite 2.9 has int64 MUL/SUB/FLOOR_MOD/MINIMUM but no int64 division):
 * LEFT = (x mod 2^(32−s))·2^s with s = min(y, 32), never past 2^32; RIGHT splits x into 16-bit
 * halves (hi exact through float32: a multiple of 2^16 below 2^32 has at most 16 significant bits),
 * then hi·2^(16−s) + ⌊lo / 2^s⌋ for s ≤ 16, ⌊hi / 2^(s−16)⌋ above (int32 FLOOR_DIV).
 */
function shiftUint32(emit: TfliteEmitter, node: Node, left: boolean): Value {
  const [xDims, yDims, outDims] = [dimsOf(node.inputs[0])!, dimsOf(node.inputs[1])!, dimsOf(node.outputs[0])!];
  const t = (dtype: DType, dims: readonly Dim[]) => tensorType(dtype, dims);
  const castTo = (v: Value, from: string, to: DType, dtypeName: string) => emit.op1('CAST', [v], { in_data_type: from, out_data_type: dtypeName }, t(to, dimsOf(v)!));
  const i64 = (value: number, name: string) => emit.constant(Tensor.fromValues('int64', [], [BigInt(value)]), name);
  const none = { fused_activation_function: 'NONE' };
  const x = castTo(node.input(0), 'UINT32', 'int64', 'INT64');
  const amount = emit.op1('MINIMUM', [castTo(node.input(1), 'UINT32', 'int64', 'INT64'), i64(32, 'bits')], {}, t('int64', yDims));
  /** 2^e (int64 e ≤ 32) through float32, exact for these powers. */
  const powerOfTwo = (exponent: Value) => {
    const real = emit.op1('POW', [emit.constant(Tensor.scalar('float32', 2), 'two_f'), castTo(exponent, 'INT64', 'float32', 'FLOAT32')], {}, t('float32', yDims));
    return castTo(real, 'FLOAT32', 'int64', 'INT64');
  };
  let y: Value;
  if (left) {
    const kept = emit.op1('FLOOR_MOD', [x, powerOfTwo(emit.op1('SUB', [i64(32, 'width'), amount], none, t('int64', yDims)))], {}, t('int64', outDims));
    y = emit.op1('MUL', [kept, powerOfTwo(amount)], none, t('int64', outDims));
  } else {
    const low = emit.op1('FLOOR_MOD', [x, i64(65536, 'half')], {}, t('int64', xDims));
    const highReal = castTo(emit.op1('SUB', [x, low], none, t('int64', xDims)), 'INT64', 'float32', 'FLOAT32');
    const high = castTo(emit.op1('MUL', [highReal, emit.constant(Tensor.scalar('float32', 2 ** -16), 'unhalf')], none, t('float32', xDims)), 'FLOAT32', 'int32', 'INT32');
    const low32 = castTo(low, 'INT64', 'int32', 'INT32');
    const amount32 = castTo(amount, 'INT64', 'int32', 'INT32');
    const pow32 = (exponent: Value) => emit.op1('POW', [emit.int32([2], [], 'two'), exponent], {}, t('int32', yDims));
    const upTo16 = emit.op1('MINIMUM', [amount32, emit.int32([16], [], 'sixteen')], {}, t('int32', yDims));
    const beyond16 = emit.op1('MAXIMUM', [emit.op1('SUB', [amount32, emit.int32([16], [], 'sixteen')], none, t('int32', yDims)), emit.int32([0], [], 'zero')], {}, t('int32', yDims));
    const highMoved = emit.op1('MUL', [castTo(high, 'INT32', 'int64', 'INT64'), castTo(pow32(emit.op1('SUB', [emit.int32([16], [], 'sixteen'), upTo16], none, t('int32', yDims))), 'INT32', 'int64', 'INT64')], none, t('int64', outDims));
    const lowMoved = castTo(emit.op1('FLOOR_DIV', [low32, pow32(upTo16)], {}, t('int32', outDims)), 'INT32', 'int64', 'INT64');
    const small = emit.op1('ADD', [highMoved, lowMoved], none, t('int64', outDims));
    const big = castTo(emit.op1('FLOOR_DIV', [high, pow32(beyond16)], {}, t('int32', outDims)), 'INT32', 'int64', 'INT64');
    y = emit.op1('SELECT_V2', [emit.op1('GREATER', [amount32, emit.int32([16], [], 'sixteen')], {}, t('bool', yDims)), big, small], {}, t('int64', outDims));
  }
  return castTo(y, 'INT64', 'uint32', 'UINT32');
}

/** BitShift of uint8 and uint32 (rank ≤ 4). */
const bitShift: LoweringRule = {
  ops: ['onnx.BitShift'],
  stage: 'lower',
  targets: ['CAST', 'MINIMUM', 'MAXIMUM', 'POW', 'MUL', 'SUB', 'ADD', 'FLOOR_MOD', 'FLOOR_DIV', 'GREATER', 'SELECT_V2'],
  check(node) {
    const dtypes = node.inputs.map((input) => tensorTypeOf(input)?.dtype);
    if (dtypes.some((d) => d !== dtypes[0]) || (dtypes[0] !== 'uint8' && dtypes[0] !== 'uint32')) {
      return `BitShift is lowered for uint8 and uint32 (operands are ${dtypes.join(', ')}; uint64 would need 64-bit unsigned arithmetic, uint16 tensors cannot be fed to TFLite 2.9's Node binding)`;
    }
    const [a, b, out] = [dimsOf(node.inputs[0]), dimsOf(node.inputs[1]), dimsOf(node.outputs[0])];
    if (!a || !b || !out) return 'BitShift needs its operand shapes';
    if (out.length > 4) return 'BitShift of rank > 4 has no TFLite 2.9 lowering (its integer kernels broadcast at most 4-D)';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const left = node.attr('direction', 'string') === 'LEFT';
    replaceNode(node, [tensorTypeOf(node.inputs[0])!.dtype === 'uint8' ? shiftUint8(emit, node, left) : shiftUint32(emit, node, left)]);
  },
};

export const bitwiseRules: readonly LoweringRule[] = [binaryBitwise, bitwiseNot, bitShift];
