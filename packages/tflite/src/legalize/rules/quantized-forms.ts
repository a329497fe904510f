/**
 * ONNX's integer-op forms outside a quantized model's int8 path, as float arithmetic that gives the
 * same integers:
 * - DynamicQuantizeLinear: the uint8 range [min(0, x), max(0, x)], scale = range/255, zero point and
 *   values rounded half to even (TFLite's ROUND) and clamped, CAST to uint8;
 * - MatMulInteger: operands CAST to float32 minus their zero points, BATCH_MATMUL, CAST to int32.
 *   Products of 8-bit values summed in float32 are exact while every partial sum stays below 2^24,
 *   so the reduction axis is cut into chunks of at most 258 (258·255·255 < 2^24) whose int32 results
 *   are ADDed: exact for any K;
 * - ConvInteger: rewritten before layout conversion (`convIntegerAsFloat`, from prepare) into
 *   Cast → Sub → Conv → Cast, input channels chunked the same way and the int32 results added.
 * A dynamic-range chain (DynamicQuantizeLinear → MatMulInteger → Cast → Mul) is taken first by the
 * hybrid rewrite (`quantized/dynamic-range.ts`); these rules see the rest.
 */
import { attrs, Builder, isTensorType, Tensor, tensorType, type Node, type Type, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { replaceNode, staticDims, TfliteEmitter, tensorTypeOf, typeWithShape } from '../lowering-tools.js';

/** The longest reduction whose 8-bit products sum exactly in float32: 258·255·255 < 2^24. */
export const EXACT_INTEGER_CHUNK = 258;

const EIGHT_BIT = new Set(['uint8', 'int8']);
const none = { fused_activation_function: 'NONE' };

function floatType(value: Value): Type {
  return tensorType('float32', tensorTypeOf(value)?.shape ?? null);
}

const dynamicQuantizeLinear: LoweringRule = {
  ops: ['onnx.DynamicQuantizeLinear'],
  stage: 'lower',
  targets: ['REDUCE_MIN', 'REDUCE_MAX', 'MINIMUM', 'MAXIMUM', 'SUB', 'DIV', 'NEG', 'ROUND', 'ADD', 'CAST'],
  check(node) {
    const dims = staticDims(node.inputs[0]);
    if (!dims) return 'DynamicQuantizeLinear needs the input shape';
    if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return 'DynamicQuantizeLinear is lowered for float32 input only';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const x = node.input(0);
    const rank = staticDims(x)!.length;
    const scalar = tensorType('float32', []);
    const type = floatType(x);
    const f = (value: number, name: string) => emit.constant(Tensor.scalar('float32', value), name);
    const axes = emit.int32(Array.from({ length: rank }, (_, i) => i), [rank], 'axes');
    const zero = f(0, 'zero');
    const low = emit.op1('MINIMUM', [emit.op1('REDUCE_MIN', [x, axes], { keep_dims: 0 }, scalar), zero], {}, scalar);
    const high = emit.op1('MAXIMUM', [emit.op1('REDUCE_MAX', [x, axes], { keep_dims: 0 }, scalar), zero], {}, scalar);
    const scale = emit.op1('DIV', [emit.op1('SUB', [high, low], none, scalar), f(255, 'qrange')], none, scalar);
    const clamp = (value: Value, valueType: Type) => emit.op1('MINIMUM', [emit.op1('MAXIMUM', [value, zero], {}, valueType), f(255, 'qmax')], {}, valueType);
    // zero point = round(clamp(0 − min/scale)), y = clamp(round(x/scale) + zero point)
    const zeroPoint = emit.op1('ROUND', [clamp(emit.op1('NEG', [emit.op1('DIV', [low, scale], none, scalar)], {}, scalar), scalar)], {}, scalar);
    const y = clamp(emit.op1('ADD', [emit.op1('ROUND', [emit.op1('DIV', [x, scale], none, type)], {}, type), zeroPoint], none, type), type);
    const toUint8 = (value: Value, valueType: Type) => emit.op1('CAST', [value], { in_data_type: 'FLOAT32', out_data_type: 'UINT8' }, isTensorType(valueType) ? tensorType('uint8', valueType.shape) : valueType);
    replaceNode(node, [toUint8(y, type), scale, toUint8(zeroPoint, scalar)]);
  },
};

/** A zero point as a float operand broadcasting against its 8-bit operand (per-row A zero points get a trailing unit dim). */
function zeroPointOperand(emit: TfliteEmitter, value: Value | null | undefined, perRow: boolean, name: string): Value | undefined {
  if (!value) return undefined;
  const tensor = constantOf(value);
  if (tensor) {
    const numbers = tensor.toNumbers();
    if (numbers.every((v) => v === 0)) return undefined;
    return emit.constant(Tensor.fromValues('float32', perRow && tensor.size > 1 ? [tensor.size, 1] : tensor.size === 1 ? [] : [tensor.size], numbers), name);
  }
  const dims = staticDims(value) ?? [];
  const cast = emit.op1('CAST', [value], { in_data_type: tensorTypeOf(value)!.dtype.toUpperCase(), out_data_type: 'FLOAT32' }, tensorType('float32', dims));
  if (!perRow || dims.length === 0 || dims[0] === 1) return cast;
  return emit.op1('RESHAPE', [cast, emit.int32([dims[0]!, 1], [2], `${name}_shape`)], {}, tensorType('float32', [dims[0]!, 1]));
}

/** `value` as float32 reals minus its zero point: CAST + SUB at run time, computed offline for a constant. */
function centred(emit: TfliteEmitter, value: Value, zeroPoint: Value | null | undefined, perRow: boolean, name: string): Value {
  const tensor = constantOf(value);
  const zero = zeroPoint ? constantOf(zeroPoint) : undefined;
  if (tensor && (!zeroPoint || zero)) {
    const z = zero?.toNumbers() ?? [0];
    const dims = tensor.shape;
    const columns = dims[dims.length - 1]!;
    const rows = dims[dims.length - 2] ?? 1;
    const values = tensor.toNumbers().map((v, i) => v - (z.length === 1 ? z[0]! : perRow ? z[Math.floor(i / columns) % rows]! : z[i % columns]!));
    return emit.constant(Tensor.fromValues('float32', dims, values), name);
  }
  const reals = emit.op1('CAST', [value], { in_data_type: tensorTypeOf(value)!.dtype.toUpperCase(), out_data_type: 'FLOAT32' }, floatType(value));
  const z = zeroPointOperand(emit, zeroPoint, perRow, `${name}_zero_point`);
  return z ? emit.op1('SUB', [reals, z], none, floatType(value)) : reals;
}

/** STRIDED_SLICE of `[from, to)` along `axis`, every other dim whole. */
function sliceAlong(emit: TfliteEmitter, value: Value, axis: number, from: number, to: number, name: string): Value {
  const dims = staticDims(value)!;
  const rank = dims.length;
  const begin = dims.map((_, d) => (d === axis ? from : 0));
  const end = dims.map((_, d) => (d === axis ? to : 0));
  const wholeMask = dims.reduce((mask, _, d) => (d === axis ? mask : mask | (1 << d)), 0);
  const type = typeWithShape(value.type, dims.map((d, i) => (i === axis ? to - from : d)));
  return emit.op1(
    'STRIDED_SLICE',
    [value, emit.int32(begin, [rank], `${name}_begin`), emit.int32(end, [rank], `${name}_end`), emit.int32(new Array<number>(rank).fill(1), [rank], `${name}_strides`)],
    { begin_mask: wholeMask, end_mask: wholeMask, ellipsis_mask: 0, new_axis_mask: 0, shrink_axis_mask: 0, offset: 0 },
    type,
  );
}

const matMulInteger: LoweringRule = {
  ops: ['onnx.MatMulInteger'],
  stage: 'lower',
  targets: ['CAST', 'SUB', 'STRIDED_SLICE', 'BATCH_MATMUL', 'ADD'],
  check(node) {
    const [a, b] = [staticDims(node.inputs[0]), staticDims(node.inputs[1])];
    if (!a || !b) return 'MatMulInteger needs static operand shapes';
    if (a.length < 2 || b.length < 2) return 'MatMulInteger of a vector (rank 1) is not supported';
    if (a.length > 4 || b.length > 4) return 'TFLite 2.9 BATCH_MATMUL takes operands of rank 2 to 4';
    for (const index of [0, 1]) {
      const dtype = tensorTypeOf(node.inputs[index])?.dtype;
      if (!dtype || !EIGHT_BIT.has(dtype)) return `operand ${index} is ${dtype ?? 'untyped'}; MatMulInteger is lowered for 8-bit operands`;
    }
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const aDims = staticDims(node.inputs[0])!;
    const k = aDims[aDims.length - 1]!;
    const a = centred(emit, node.input(0), node.inputs[2], true, 'a');
    const b = centred(emit, node.input(1), node.inputs[3], false, 'b');
    const outDims = staticDims(node.outputs[0]) ?? tensorTypeOf(node.outputs[0])?.shape ?? null;
    const floatOut = tensorType('float32', outDims);
    const intOut = tensorType('int32', outDims);
    let sum: Value | undefined;
    for (let from = 0; from < k; from += EXACT_INTEGER_CHUNK) {
      const to = Math.min(k, from + EXACT_INTEGER_CHUNK);
      const whole = from === 0 && to === k;
      const aPart = whole ? a : sliceAlong(emit, a, aDims.length - 1, from, to, `a_${from}`);
      const bPart = whole ? b : sliceAlong(emit, b, staticDims(b)!.length - 2, from, to, `b_${from}`);
      const product = emit.op1('BATCH_MATMUL', [aPart, bPart], { adj_x: 0, adj_y: 0 }, floatOut);
      const integers = emit.op1('CAST', [product], { in_data_type: 'FLOAT32', out_data_type: 'INT32' }, intOut);
      sum = sum ? emit.op1('ADD', [sum, integers], none, intOut) : integers;
    }
    replaceNode(node, [sum!]);
  },
};

/** Why a ConvInteger cannot be rewritten (weights, zero points), or undefined. */
function convIntegerProblem(node: Node): string | undefined {
  const weights = constantOf(node.inputs[1]);
  if (!weights) return 'the weights must be a constant';
  const dims = staticDims(node.inputs[0]);
  if (!dims) return 'ConvInteger needs the input shape';
  if ((node.optionalAttr('group', 'int') ?? 1) !== 1) return 'grouped ConvInteger is not supported';
  for (const index of [0, 1]) {
    const dtype = tensorTypeOf(node.inputs[index])?.dtype;
    if (!dtype || !EIGHT_BIT.has(dtype)) return `operand ${index} is ${dtype ?? 'untyped'}; ConvInteger is lowered for 8-bit operands`;
  }
  if (node.inputs[2] && (!constantOf(node.inputs[2]) || constantOf(node.inputs[2])!.size !== 1)) return 'the input zero point must be a constant scalar';
  if (node.inputs[3] && !constantOf(node.inputs[3])) return 'the weight zero point must be a constant';
  return undefined;
}

/**
 * ConvInteger → Cast → Sub(zero point) → Conv (float, weights minus their zero points offline) → Cast
 * to int32, the input channels cut so every output sums at most 258 products exactly. Called by
 * prepare (Conv is layout-sensitive). Returns whether it rewrote.
 */
export function convIntegerAsFloat(node: Node): boolean {
  if (convIntegerProblem(node)) return false;
  const at = Builder.before(node);
  const weights = constantOf(node.inputs[1])!;
  const [outChannels, inChannels, ...kernel] = weights.shape as number[];
  const taps = kernel.reduce((n, d) => n * d, 1);
  const wZero = node.inputs[3] ? constantOf(node.inputs[3])!.toNumbers() : [0];
  const perChannel = weights.size / outChannels!;
  const w = weights.toNumbers().map((v, i) => v - (wZero.length === 1 ? wZero[0]! : wZero[Math.floor(i / perChannel)]!));
  const xZero = node.inputs[2] ? constantOf(node.inputs[2])!.toNumbers()[0]! : 0;
  const x = node.input(0);
  const xDims = staticDims(x)!;
  let reals = at.op1('onnx.Cast', [x], { to: attrs.int(1) }, { types: [floatType(x)] });
  if (xZero !== 0) reals = at.op1('onnx.Sub', [reals, at.constant(Tensor.scalar('float32', xZero), `${node.name}_x_zero_point`)], {}, { types: [floatType(x)] });
  const output = node.output(0);
  const floatOut = tensorType('float32', tensorTypeOf(output)?.shape ?? null);
  const intOut = tensorType('int32', tensorTypeOf(output)?.shape ?? null);
  const chunk = Math.max(1, Math.floor(EXACT_INTEGER_CHUNK / taps));
  const convAttributes = Object.fromEntries(['auto_pad', 'dilations', 'kernel_shape', 'pads', 'strides'].flatMap((name) => (node.getAttribute(name) ? [[name, node.getAttribute(name)!]] : [])));
  const int64 = (values: number[]) => at.constant(Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v))), `${node.name}_bound`);
  let sum: Value | undefined;
  for (let from = 0; from < inChannels!; from += chunk) {
    const to = Math.min(inChannels!, from + chunk);
    const whole = from === 0 && to === inChannels;
    const part = whole ? reals : at.op1('onnx.Slice', [reals, int64([from]), int64([to]), int64([1])], {}, { types: [tensorType('float32', xDims.map((d, i) => (i === 1 ? to - from : d)))] });
    const partWeights: number[] = [];
    for (let o = 0; o < outChannels!; o++) partWeights.push(...w.slice((o * inChannels! + from) * taps, (o * inChannels! + to) * taps));
    const filter = at.constant(Tensor.fromValues('float32', [outChannels!, to - from, ...kernel], partWeights), `${node.name}_filter`);
    const conv = at.op1('onnx.Conv', [part, filter], convAttributes, { types: [floatOut] });
    const integers = at.op1('onnx.Cast', [conv], { to: attrs.int(6) }, { types: [intOut] });
    sum = sum ? at.op1('onnx.Add', [sum, integers], {}, { types: [intOut] }) : integers;
  }
  output.replaceAllUsesWith(sum!);
  node.erase();
  return true;
}

/** ConvInteger left by prepare: says why. */
const convInteger: LoweringRule = {
  ops: ['onnx.ConvInteger'],
  stage: 'lower',
  targets: ['CAST', 'SUB', 'CONV_2D', 'ADD'],
  check: (node) => convIntegerProblem(node) ?? 'ConvInteger was not rewritten before layout conversion',
  lower(node) {
    throw node.error('ConvInteger must be rewritten before lowering');
  },
};

export const quantizedFormRules: readonly LoweringRule[] = [dynamicQuantizeLinear, matMulInteger, convInteger];
