import { attrs, expressedType, Tensor, type Attribute, type Node, type Value } from '@modelpass/ir';
import { transposeTensor } from '@modelpass/transforms';
import { constantOf, numbersOf } from '../../legalize/constant-values.js';
import { dimsOf, normalizeAxis, rankOfValue, tensorTypeOf } from '../../legalize/lowering-tools.js';
import { CanonicalEmitter, replaceRaised } from '../canonical-emitter.js';
import { dequantizeTensor } from '../quant-types.js';
import type { RaiseRule } from '../raise-rule.js';

/** `value` as an int64 operand: a constant re-spelled (1-D, or a scalar), int64 as is, else a Cast. */
export function int64Operand(emit: CanonicalEmitter, value: Value, name: string): Value {
  const values = numbersOf(value);
  if (values) return emit.int64(values, name, constantOf(value)!.shape.length === 0 ? [] : [values.length]);
  if (tensorTypeOf(value)?.dtype === 'int64') return value;
  return emit.op1('Cast', [value], { to: attrs.int(7) }, { kind: 'tensor', dtype: 'int64', shape: dimsOf(value) ?? null });
}

const reshape: RaiseRule = {
  ops: ['tflite.RESHAPE'],
  targets: ['Reshape'],
  check(node, context) {
    if (!node.inputs[1] && !node.optionalAttr('new_shape', 'ints')) return 'RESHAPE without a shape operand or new_shape';
    const given = node.inputs[1] ? numbersOf(node.inputs[1]) : node.optionalAttr('new_shape', 'ints');
    if (given?.includes(0) && context.opset < 14) return 'a 0 in a TFLite shape is an empty dim; ONNX Reshape reads it as "copy" before opset 14 (allowzero): raise with opset=14 or later';
    return undefined;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const newShape = node.optionalAttr('new_shape', 'ints');
    const shape = node.inputs[1] ? int64Operand(emit, node.input(1), 'shape') : emit.int64(newShape!, 'shape');
    const given = node.inputs[1] ? numbersOf(node.inputs[1]) : newShape;
    const attributes: Record<string, Attribute> = given?.includes(0) ? { allowzero: attrs.int(1) } : {};
    replaceRaised(node, [emit.op1('Reshape', [node.input(0), shape], attributes, node.output(0).type)]);
  },
};

const transpose: RaiseRule = {
  ops: ['tflite.TRANSPOSE'],
  targets: ['Transpose'],
  check: (node) => (numbersOf(node.inputs[1]) ? undefined : 'the permutation must be a constant'),
  raise(node) {
    const emit = new CanonicalEmitter(node);
    replaceRaised(node, [emit.op1('Transpose', [node.input(0)], { perm: attrs.ints(numbersOf(node.inputs[1])!) }, node.output(0).type)]);
  },
};

const concatenation: RaiseRule = {
  ops: ['tflite.CONCATENATION'],
  targets: ['Concat'],
  check: (node) => (rankOfValue(node.outputs[0]) === undefined ? 'needs the output rank' : undefined),
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const axis = normalizeAxis(node.attr('axis', 'int'), rankOfValue(node.outputs[0])!)!;
    const fused = node.optionalAttr('fused_activation_function', 'string');
    const y = emit.op1('Concat', node.inputs, { axis: attrs.int(axis) }, emit.preActivationType(node.output(0).type, fused));
    replaceRaised(node, [emit.activation(y, fused, node.output(0).type) as Value]);
  },
};

const pad: RaiseRule = {
  ops: ['tflite.PAD', 'tflite.PADV2', 'tflite.MIRROR_PAD'],
  targets: ['Pad'],
  check(node) {
    if (!numbersOf(node.inputs[1])) return 'the paddings must be a constant';
    if (node.op === 'tflite.MIRROR_PAD' && node.optionalAttr('mode', 'string') !== 'REFLECT') return 'MIRROR_PAD SYMMETRIC has no ONNX Pad mode';
    return undefined;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const pairs = numbersOf(node.inputs[1])!;
    const rank = pairs.length / 2;
    const pads = [...Array.from({ length: rank }, (_, i) => pairs[2 * i]!), ...Array.from({ length: rank }, (_, i) => pairs[2 * i + 1]!)];
    const inputs = [node.input(0), emit.int64(pads, 'pads'), node.op === 'tflite.PADV2' ? node.input(2) : null];
    const attributes: Record<string, Attribute> = node.op === 'tflite.MIRROR_PAD' ? { mode: attrs.string('reflect') } : {};
    replaceRaised(node, [emit.op1('Pad', inputs, attributes, node.output(0).type)]);
  },
};

const REDUCERS: Readonly<Record<string, string>> = { 'tflite.MEAN': 'ReduceMean', 'tflite.SUM': 'ReduceSum', 'tflite.REDUCE_MAX': 'ReduceMax', 'tflite.REDUCE_MIN': 'ReduceMin', 'tflite.REDUCE_PROD': 'ReduceProd' };

const reduce: RaiseRule = {
  ops: Object.keys(REDUCERS),
  targets: Object.values(REDUCERS),
  check: (node) => (numbersOf(node.inputs[1]) && rankOfValue(node.inputs[0]) !== undefined ? undefined : 'the axes must be a constant and the input rank known'),
  raise(node, context) {
    const emit = new CanonicalEmitter(node);
    const rank = rankOfValue(node.inputs[0])!;
    const axes = numbersOf(node.inputs[1])!.map((a) => normalizeAxis(a, rank)!);
    const op = REDUCERS[node.op]!;
    const keepdims = attrs.int(node.optionalAttr('keep_dims', 'int') ?? 0);
    const asInput = context.opset >= 18 || (op === 'ReduceSum' && context.opset >= 13);
    const y = asInput
      ? emit.op1(op, [node.input(0), emit.int64(axes, 'axes')], { keepdims }, node.output(0).type)
      : emit.op1(op, [node.input(0)], { axes: attrs.ints(axes), keepdims }, node.output(0).type);
    replaceRaised(node, [y]);
  },
};

/** ARG_MAX/ARG_MIN(input, axis) → ArgMax/ArgMin (keepdims 0; both keep the first of equal values), Cast to int32 when output_type is INT32. */
const argExtremum: RaiseRule = {
  ops: ['tflite.ARG_MAX', 'tflite.ARG_MIN'],
  targets: ['ArgMax', 'ArgMin', 'Cast'],
  check: (node) => (numbersOf(node.inputs[1])?.length === 1 && rankOfValue(node.inputs[0]) !== undefined ? undefined : 'the axis must be a constant and the input rank known'),
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const axis = normalizeAxis(numbersOf(node.inputs[1])![0]!, rankOfValue(node.inputs[0])!)!;
    const out = node.output(0).type;
    const dims = dimsOf(node.outputs[0]) ?? null;
    const indices = emit.op1(node.op === 'tflite.ARG_MAX' ? 'ArgMax' : 'ArgMin', [node.input(0)], { axis: attrs.int(axis), keepdims: attrs.int(0) }, { kind: 'tensor', dtype: 'int64', shape: dims });
    const int32 = out.kind === 'tensor' && out.dtype === 'int32';
    replaceRaised(node, [int32 ? emit.op1('Cast', [indices], { to: attrs.int(6) }, out) : indices]);
  },
};

/** Whether the rows of a constant `[..., k]` index tensor are all different (so scattering them cannot add up repeats). */
function distinctRows(indices: Value | null | undefined): boolean {
  const values = numbersOf(indices);
  const dims = dimsOf(indices);
  if (!values || !dims || dims.length === 0) return false;
  const width = (dims[dims.length - 1] as number) || 1;
  const seen = new Set<string>();
  for (let i = 0; i < values.length; i += width) seen.add(values.slice(i, i + width).join(','));
  return seen.size * width === values.length;
}

/**
 * SCATTER_ND(indices, updates, shape): zeros of `shape` with the updates scattered in, repeated indices summed →
 * ScatterND(ConstantOfShape(shape, 0), indices as int64, updates). Repeats can only be summed by ScatterND's
 * reduction 'add' (opset 16); constant indices without repeats need none.
 */
const scatterNd: RaiseRule = {
  ops: ['tflite.SCATTER_ND'],
  targets: ['ScatterND', 'ConstantOfShape', 'Cast'],
  check(node, context) {
    const dtype = tensorTypeOf(node.inputs[1])?.dtype;
    if (!dtype || !['float32', 'int32', 'int64'].includes(dtype)) return `updates of dtype ${dtype ?? 'unknown'} are not supported (float32, int32, int64)`;
    if (context.opset < 16 && !distinctRows(node.inputs[0])) {
      return "its indices may repeat (they are computed at run time): SCATTER_ND sums repeats, which ONNX ScatterND says only from opset 16 (reduction 'add'); raise with -p 'raise-tflite{opset=16}'";
    }
    return undefined;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const out = node.output(0).type;
    const dtype = tensorTypeOf(node.inputs[1])!.dtype;
    const zero = dtype === 'int64' ? Tensor.fromValues('int64', [1], [0n]) : Tensor.fromValues(dtype, [1], [0]);
    const zeros = emit.op1('ConstantOfShape', [int64Operand(emit, node.input(2), 'shape')], { value: attrs.tensor(zero) }, out);
    // Constant indices keep their shape ([n, k]): int64Operand flattens constants to 1-D.
    const known = numbersOf(node.inputs[0]);
    const indices = known ? emit.int64(known, 'indices', constantOf(node.inputs[0])!.shape) : int64Operand(emit, node.input(0), 'indices');
    const reduction: Record<string, Attribute> = distinctRows(node.inputs[0]) ? {} : { reduction: attrs.string('add') };
    replaceRaised(node, [emit.op1('ScatterND', [zeros, indices, node.input(1)], reduction, out)]);
  },
};

/** TOPK_V2(input, k) → TopK over the last axis (largest, sorted; equal values by lower index in both), int32 indices through a Cast. */
const topK: RaiseRule = {
  ops: ['tflite.TOPK_V2'],
  targets: ['TopK', 'Cast', 'Reshape'],
  check: (node) => (rankOfValue(node.inputs[0]) === undefined ? 'the input rank must be known' : undefined),
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const k = numbersOf(node.inputs[1]);
    const kValue = k ? emit.int64([k[0]!], 'k') : emit.op1('Reshape', [int64Operand(emit, node.input(1), 'k'), emit.int64([1], 'k_shape')], {}, { kind: 'tensor', dtype: 'int64', shape: [1] });
    const [values, indices] = [node.output(0), node.output(1)];
    const topk = emit.at.create('onnx.TopK', [node.input(0), kValue], { axis: attrs.int(-1), largest: attrs.int(1), sorted: attrs.int(1) }, {
      types: [values.type, { kind: 'tensor', dtype: 'int64', shape: dimsOf(indices) ?? null }],
      name: `${node.name}_topk`,
    });
    const int32 = tensorTypeOf(indices)?.dtype === 'int32';
    replaceRaised(node, [topk.output(0), int32 ? emit.op1('Cast', [topk.output(1)], { to: attrs.int(6) }, indices.type) : topk.output(1)]);
  },
};

/** LOG_SOFTMAX → LogSoftmax over the last axis. */
const logSoftmax: RaiseRule = {
  ops: ['tflite.LOG_SOFTMAX'],
  targets: ['LogSoftmax'],
  check: () => undefined,
  raise(node) {
    const emit = new CanonicalEmitter(node);
    replaceRaised(node, [emit.op1('LogSoftmax', [node.input(0)], { axis: attrs.int(-1) }, node.output(0).type)]);
  },
};

/** CUMSUM(x, axis) → CumSum with the same exclusive and reverse (axis as an int64 scalar; a run-time one cast). */
const cumSum: RaiseRule = {
  ops: ['tflite.CUMSUM'],
  targets: ['CumSum', 'Cast'],
  check: (node) => (node.inputs[1] ? undefined : 'CUMSUM needs its axis input'),
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const known = numbersOf(node.inputs[1]);
    const axis = known ? emit.int64([known[0]!], 'axis', []) : int64Operand(emit, node.input(1), 'axis');
    const options = { exclusive: attrs.int(node.optionalAttr('exclusive', 'int') ?? 0), reverse: attrs.int(node.optionalAttr('reverse', 'int') ?? 0) };
    replaceRaised(node, [emit.op1('CumSum', [node.input(0), axis], options, node.output(0).type)]);
  },
};

const softmax: RaiseRule = {
  ops: ['tflite.SOFTMAX'],
  targets: ['Softmax', 'Mul'],
  check: () => undefined,
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const beta = node.optionalAttr('beta', 'float') ?? 1;
    let x = node.input(0);
    if (beta !== 1) x = emit.op1('Mul', [x, emit.constant(Tensor.scalar('float32', beta), 'beta')], {}, expressedType(x.type));
    replaceRaised(node, [emit.op1('Softmax', [x], { axis: attrs.int(-1) }, node.output(0).type)]);
  },
};

const fullyConnected: RaiseRule = {
  ops: ['tflite.FULLY_CONNECTED'],
  targets: ['Gemm', 'MatMul', 'Add', 'Reshape'],
  check(node) {
    if ((node.optionalAttr('weights_format', 'string') ?? 'DEFAULT') !== 'DEFAULT') return 'shuffled weights formats are not supported';
    const weights = raisedConstantOf(node.inputs[1]);
    if (!weights || (weights.dtype !== 'float32' && !weights.quant)) return 'the weights must be a float32 or quantized integer constant';
    return undefined;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const weights = constantOf(node.inputs[1])!;
    const [units, depth] = weights.shape as [number, number];
    let x = node.input(0);
    const rank = rankOfValue(x) ?? 2;
    const keep = (node.optionalAttr('keep_num_dims', 'int') ?? 0) === 1;
    if (rank !== 2 && !keep) {
      const input = tensorTypeOf(x);
      x = emit.op1('Reshape', [x, emit.int64([-1, depth], 'flat')], {}, { kind: 'tensor', dtype: input?.dtype ?? 'float32', shape: [null, depth], ...(input?.quant ? { quant: input.quant } : {}) });
    }
    const outType = node.output(0).type;
    const fused = node.optionalAttr('fused_activation_function', 'string');
    const bias = constantOf(node.inputs[2]);
    if (!weights.quant && rankOfValue(x) === 2) {
      // Float weights of a 2-D product: Gemm reads TFLite's [units, depth] as they are (transB), so a weight that stays
      // in the .tflite (lazy) is never transposed — a 1.1 GiB FULLY_CONNECTED took 376 s and 2.4 GB to raise that way.
      const operands = [x, emit.constant(weights, 'weights'), bias ? emit.constant(bias.reshape([units]), 'bias') : null];
      const y = emit.op1('Gemm', operands, { transB: attrs.int(1) }, emit.preActivationType(outType, fused));
      replaceRaised(node, [emit.activation(y, fused, outType) as Value]);
      return;
    }
    // A quantized output is quantized once, after the bias and the activation (TFLite's int8 kernels add the bias in int32).
    let y = emit.op1('MatMul', [x, emit.constant(transposeTensor(weights, [1, 0]), 'weights')], {}, bias ? expressedType(outType) : emit.preActivationType(outType, fused));
    if (bias) y = emit.op1('Add', [y, emit.constant(bias.reshape([units]), 'bias')], {}, emit.preActivationType(outType, fused));
    replaceRaised(node, [emit.activation(y, fused, outType) as Value]);
  },
};

const gather: RaiseRule = {
  ops: ['tflite.GATHER'],
  targets: ['Gather'],
  check: (node) => ((node.optionalAttr('batch_dims', 'int') ?? 0) === 0 ? undefined : 'batch_dims is not supported'),
  raise(node) {
    const emit = new CanonicalEmitter(node);
    replaceRaised(node, [emit.op1('Gather', [node.input(0), node.input(1)], { axis: attrs.int(node.optionalAttr('axis', 'int') ?? 0) }, node.output(0).type)]);
  },
};

/**
 * GATHER_ND(params, indices) → GatherND (batch_dims 0): the same slices, the indices' last axis indexing the leading
 * axes of params. ONNX GatherND takes int64 indices only: constant indices are rewritten, run-time int16/int32 ones Cast.
 */
const gatherNd: RaiseRule = {
  ops: ['tflite.GATHER_ND'],
  targets: ['GatherND', 'Cast'],
  check(node) {
    const dtype = tensorTypeOf(node.inputs[1])?.dtype;
    if (dtype && !['int16', 'int32', 'int64'].includes(dtype)) return `indices of dtype ${dtype} are not supported (int16, int32, int64)`;
    const rank = rankOfValue(node.inputs[1]);
    if (rank === 0) return 'the indices must have rank 1 or more (a scalar index has no tuple axis)';
    return undefined;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    // Constant indices keep their shape: int64Operand flattens constants to 1-D.
    const known = numbersOf(node.inputs[1]);
    const indices = known ? emit.int64(known, 'indices', constantOf(node.inputs[1])!.shape) : int64Operand(emit, node.input(1), 'indices');
    replaceRaised(node, [emit.op1('GatherND', [node.input(0), indices], {}, node.output(0).type)]);
  },
};

const squeeze: RaiseRule = {
  ops: ['tflite.SQUEEZE', 'tflite.EXPAND_DIMS'],
  targets: ['Squeeze', 'Unsqueeze'],
  check: (node) => (node.op === 'tflite.EXPAND_DIMS' && !numbersOf(node.inputs[1]) ? 'the axis must be a constant' : undefined),
  raise(node) {
    const emit = new CanonicalEmitter(node);
    if (node.op === 'tflite.EXPAND_DIMS') {
      const axis = numbersOf(node.inputs[1])![0]!;
      replaceRaised(node, [emit.op1('Unsqueeze', [node.input(0), emit.int64([axis], 'axes')], {}, node.output(0).type)]);
      return;
    }
    const axes = node.optionalAttr('squeeze_dims', 'ints') ?? [];
    replaceRaised(node, [emit.op1('Squeeze', [node.input(0), axes.length > 0 ? emit.int64(axes, 'axes') : null], {}, node.output(0).type)]);
  },
};

/** The float32 data a DEQUANTIZE/DENSIFY of a constant stands for (MediaPipe's float16 weights), or undefined. */
export function dequantizedConstant(node: Node): Tensor | undefined {
  if (node.op !== 'tflite.DEQUANTIZE' && node.op !== 'tflite.DENSIFY') return undefined;
  const tensor = constantOf(node.inputs[0]);
  if (!tensor) return undefined;
  if (node.op === 'tflite.DENSIFY') return tensor;
  if (tensor.dtype === 'float16') return Tensor.fromValues('float32', tensor.shape, tensor.toNumbers());
  if (!tensor.quant || !(tensor.dtype === 'int8' || tensor.dtype === 'uint8' || tensor.dtype === 'int16')) return undefined;
  return dequantizeTensor(tensor);
}

/** A constant operand, looking through a DEQUANTIZE/DENSIFY of a constant (folded before raising). */
export function raisedConstantOf(value: Value | null | undefined): Tensor | undefined {
  const direct = constantOf(value);
  if (direct) return direct;
  const producer = value?.producer;
  return producer ? dequantizedConstant(producer) : undefined;
}

/** Replaces a DEQUANTIZE/DENSIFY of a constant by a float32 constant. */
export function foldConstantDequantize(node: Node): boolean {
  const folded = dequantizedConstant(node);
  if (!folded) return false;
  const value = node.graph!.addConstant(node.graph!.uniqueName(node.output(0).name), folded);
  replaceRaised(node, [value]);
  return true;
}

/** TILE(input, multiples int32/int64) → Tile with int64 repeats (a constant, or a Cast of the run-time multiples). */
const tile: RaiseRule = {
  ops: ['tflite.TILE'],
  targets: ['Tile', 'Cast'],
  check: (node) => (node.inputs[1] ? undefined : 'TILE needs its multiples input'),
  raise(node) {
    const emit = new CanonicalEmitter(node);
    replaceRaised(node, [emit.op1('Tile', [node.input(0), int64Operand(emit, node.input(1), 'repeats')], {}, node.output(0).type)]);
  },
};

/**
 * ONE_HOT(indices, depth, on_value, off_value; axis) → Where(Equal(Unsqueeze(indices, axis), Range(0, depth) along that
 * axis), on, off). Not onnx.OneHot: TFLite gives an all-off row for any index outside [0, depth), negative ones included,
 * where ONNX OneHot counts a negative index from the end; and ORT registers OneHot for a few dtype triples only.
 */
const oneHot: RaiseRule = {
  ops: ['tflite.ONE_HOT'],
  targets: ['Unsqueeze', 'Range', 'Cast', 'Reshape', 'Equal', 'Where'],
  check(node) {
    if (rankOfValue(node.inputs[0]) === undefined) return 'the rank of the indices must be known';
    const dtype = tensorTypeOf(node.inputs[0])?.dtype;
    if (dtype !== 'int32' && dtype !== 'int64') return `indices of dtype ${dtype} are not supported (int32, int64)`;
    return undefined;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const indices = node.input(0);
    const rank = rankOfValue(indices)!;
    const axis = normalizeAxis(node.optionalAttr('axis', 'int') ?? -1, rank + 1)!;
    const dtype = tensorTypeOf(indices)!.dtype;
    const scalar = (value: Value, name: string) => (rankOfValue(value) === 0 ? value : emit.op1('Reshape', [value, emit.int64([], `${name}_scalar`, [0])], {}, { kind: 'tensor', dtype: tensorTypeOf(value)?.dtype ?? dtype, shape: [] }));
    let depth = scalar(node.input(1), 'depth');
    if (tensorTypeOf(depth)?.dtype !== dtype) depth = emit.op1('Cast', [depth], { to: attrs.int(dtype === 'int64' ? 7 : 6) }, { kind: 'tensor', dtype, shape: [] });
    const zero = emit.constant(Tensor.scalar(dtype, dtype === 'int64' ? 0n : 0), 'zero');
    const one = emit.constant(Tensor.scalar(dtype, dtype === 'int64' ? 1n : 1), 'one');
    const classes = emit.op1('Range', [zero, depth, one], {}, { kind: 'tensor', dtype, shape: [null] });
    // The classes run along `axis`: [depth, 1, …, 1] with one 1 per output axis after it.
    const along = rank - axis === 0 ? classes : emit.op1('Reshape', [classes, emit.int64([-1, ...new Array(rank - axis).fill(1)], 'classes_shape')], {}, { kind: 'tensor', dtype, shape: [null, ...new Array(rank - axis).fill(1)] });
    const expanded = emit.op1('Unsqueeze', [indices, emit.int64([axis], 'axis')], {}, { kind: 'tensor', dtype, shape: null });
    const hot = emit.op1('Equal', [expanded, along], {}, { kind: 'tensor', dtype: 'bool', shape: null });
    replaceRaised(node, [emit.op1('Where', [hot, scalar(node.input(2), 'on'), scalar(node.input(3), 'off')], {}, node.output(0).type)]);
  },
};

/**
 * LOCAL_RESPONSE_NORMALIZATION over NHWC channels → LRN on NCHW between transposes: TFLite sums the squares of the
 * 2·radius + 1 channels around each one and scales that sum by alpha; ONNX LRN's window is `size` channels and it
 * divides alpha by size, so size = 2·radius + 1 and ONNX's alpha = alpha · size.
 */
const localResponseNormalization: RaiseRule = {
  ops: ['tflite.LOCAL_RESPONSE_NORMALIZATION'],
  targets: ['LRN', 'Transpose'],
  check: (node) => (dimsOf(node.inputs[0])?.length === 4 ? undefined : 'needs a rank-4 NHWC input'),
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const size = 2 * (node.optionalAttr('radius', 'int') ?? 0) + 1;
    const attributes = {
      size: attrs.int(size),
      alpha: attrs.float((node.optionalAttr('alpha', 'float') ?? 0) * size),
      beta: attrs.float(node.optionalAttr('beta', 'float') ?? 0),
      bias: attrs.float(node.optionalAttr('bias', 'float') ?? 0),
    };
    const y = emit.op1('LRN', [emit.toChannelsFirst(node.input(0))], attributes, emit.channelsFirstType(node.output(0).type));
    replaceRaised(node, [emit.toChannelsLast(y)]);
  },
};

/** REVERSE_SEQUENCE(input, seq_lengths; seq_dim, batch_dim) → ReverseSequence (ONNX takes time and batch axes 0 and 1 only). */
const reverseSequence: RaiseRule = {
  ops: ['tflite.REVERSE_SEQUENCE'],
  targets: ['ReverseSequence', 'Cast'],
  check(node) {
    const axes = [node.optionalAttr('seq_dim', 'int') ?? 0, node.optionalAttr('batch_dim', 'int') ?? 0];
    if (!axes.every((axis) => axis === 0 || axis === 1) || axes[0] === axes[1]) return `seq_dim ${axes[0]} and batch_dim ${axes[1]}: ONNX ReverseSequence takes axes 0 and 1 only`;
    return undefined;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const attributes = { time_axis: attrs.int(node.optionalAttr('seq_dim', 'int') ?? 0), batch_axis: attrs.int(node.optionalAttr('batch_dim', 'int') ?? 0) };
    replaceRaised(node, [emit.op1('ReverseSequence', [node.input(0), int64Operand(emit, node.input(1), 'lengths')], attributes, node.output(0).type)]);
  },
};

/** WHERE(condition) (one operand): the int64 coordinates `[n, rank]` of the true elements, row-major → NonZero (`[rank, n]`) transposed. */
const where: RaiseRule = {
  ops: ['tflite.WHERE'],
  targets: ['NonZero', 'Transpose'],
  check: (node) => (node.inputs.length === 1 ? undefined : 'WHERE with more than one operand (use SELECT_V2)'),
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const rank = rankOfValue(node.inputs[0]) ?? null;
    const coordinates = emit.op1('NonZero', [node.input(0)], {}, { kind: 'tensor', dtype: 'int64', shape: [rank, null] });
    replaceRaised(node, [emit.op1('Transpose', [coordinates], { perm: attrs.ints([1, 0]) }, node.output(0).type)]);
  },
};

/**
 * UNIQUE(x) of a 1-D tensor: the values in first-occurrence order and, per element, the index of its value → Unique
 * with sorted=0 (the same order), whose inverse_indices are that index (int64, cast to UNIQUE's idx type).
 */
const unique: RaiseRule = {
  ops: ['tflite.UNIQUE'],
  targets: ['Unique', 'Cast'],
  check: (node) => (rankOfValue(node.inputs[0]) === 1 ? undefined : 'UNIQUE needs a 1-D input'),
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const valueType = node.output(0).type;
    const indexType = node.output(1).type;
    const int64 = (shape: (number | null)[]) => ({ kind: 'tensor' as const, dtype: 'int64' as const, shape });
    const unique = emit.at.create('onnx.Unique', [node.input(0)], { sorted: attrs.int(0) }, {
      name: `${node.name}_unique`,
      types: [valueType, int64([null]), int64((dimsOf(node.inputs[0]) ?? [null]) as (number | null)[]), int64([null])],
    });
    const inverse = unique.output(2);
    const idx = indexType.kind === 'tensor' && indexType.dtype === 'int64' ? inverse : emit.op1('Cast', [inverse], { to: attrs.int(6) }, indexType);
    replaceRaised(node, [unique.output(0), idx]);
  },
};

export const shapeRaiseRules: readonly RaiseRule[] = [reshape, transpose, concatenation, pad, reduce, softmax, fullyConnected, gather, gatherNd, squeeze, tile, argExtremum, scatterNd, topK, logSoftmax, cumSum, oneHot, localResponseNormalization, reverseSequence, where, unique];
