import { attrs, onnxCodeOf, Tensor, tensorType, type Node, type Value } from '@modelpass/ir';
import { numbersOf } from '../../legalize/constant-values.js';
import { dimsOf, normalizeAxis, rankOfValue, tensorTypeOf } from '../../legalize/lowering-tools.js';
import { CanonicalEmitter, replaceRaised } from '../canonical-emitter.js';
import type { RaiseRule } from '../raise-rule.js';

/** An end past any dim (ONNX Slice clamps it): exact in a double, unlike INT64_MAX. */
const PAST_THE_END = 2 ** 53 - 1;

const shape: RaiseRule = {
  ops: ['tflite.SHAPE'],
  targets: ['Shape', 'Cast'],
  check: (node) => (tensorTypeOf(node.outputs[0]) ? undefined : 'needs the output type'),
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const outType = node.output(0).type;
    const dtype = tensorTypeOf(node.outputs[0])!.dtype;
    const shape = emit.op1('Shape', [node.input(0)], {}, { kind: 'tensor', dtype: 'int64', shape: dimsOf(node.outputs[0]) ?? null });
    replaceRaised(node, [dtype === 'int64' ? shape : emit.op1('Cast', [shape], { to: attrs.int(onnxCodeOf(dtype)) }, outType)]);
  },
};

const cast: RaiseRule = {
  ops: ['tflite.CAST'],
  targets: ['Cast'],
  check: (node) => (tensorTypeOf(node.outputs[0]) ? undefined : 'needs the output type (out_data_type)'),
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const outType = tensorTypeOf(node.outputs[0])!;
    const dtype = outType.dtype;
    const inType = tensorTypeOf(node.inputs[0]);
    // TFLite's CAST converts a quantized input's stored integers (legalize's int8 tables index by them), while an ONNX
    // Cast of a quant<> value converts its reals: recover the integers from the reals, round(real / scale) + zero point
    // (the real is scale·(q − zero point) in float32, so the quotient is within far less than half a step of q − zero
    // point), then cast. Per-axis parameters broadcast along their axis.
    if (inType?.quant && !outType.quant) {
      const quant = inType.quant;
      const rank = inType.shape?.length;
      const perAxis = quant.scale.length > 1 || quant.axis !== undefined;
      if (perAxis && rank === undefined) throw node.error('a CAST of per-axis quantized values needs the input rank');
      const paramShape = perAxis ? Array.from({ length: rank! }, (_, i) => (i === quant.axis ? quant.scale.length : 1)) : [];
      const real = tensorType('float32', inType.shape);
      const scale = emit.constant(Tensor.fromValues('float32', paramShape, quant.scale), 'codes_scale');
      const zeroPoint = emit.constant(Tensor.fromValues('float32', paramShape, quant.zeroPoint), 'codes_zero_point');
      const steps = emit.op1('Round', [emit.op1('Div', [node.input(0), scale], {}, real)], {}, real);
      const codes = emit.op1('Add', [steps, zeroPoint], {}, real);
      replaceRaised(node, [dtype === 'float32' ? codes : emit.op1('Cast', [codes], { to: attrs.int(onnxCodeOf(dtype)) }, node.output(0).type)]);
      return;
    }
    replaceRaised(node, [emit.op1('Cast', [node.input(0)], { to: attrs.int(onnxCodeOf(dtype)) }, node.output(0).type)]);
  },
};

/** SPLIT (axis, x) and SPLIT_V (x, sizes, axis) → Split with explicit sizes. */
function splitOperands(node: Node): { x: Value | null; axis: number[] | undefined; sizes: number[] | undefined } {
  if (node.op === 'tflite.SPLIT') return { x: node.inputs[1] ?? null, axis: numbersOf(node.inputs[0]), sizes: undefined };
  return { x: node.inputs[0] ?? null, axis: numbersOf(node.inputs[2]), sizes: numbersOf(node.inputs[1]) };
}

function splitSizes(node: Node): { axis: number; sizes: number[] } | string {
  const { x, axis, sizes } = splitOperands(node);
  const dims = dimsOf(x);
  if (!axis || axis.length !== 1) return 'the split axis must be a constant';
  if (!dims) return 'needs the input shape';
  const normalized = normalizeAxis(axis[0]!, dims.length);
  if (normalized === undefined) return `split axis ${axis[0]} is out of range`;
  const dim = dims[normalized];
  const count = node.outputs.length;
  if (sizes === undefined) {
    if (typeof dim !== 'number') return 'SPLIT needs a static dim along the axis';
    if (dim % count !== 0) return `SPLIT of ${dim} into ${count} parts is not even`;
    return { axis: normalized, sizes: new Array<number>(count).fill(dim / count) };
  }
  const unknown = sizes.filter((s) => s === -1).length;
  if (unknown > 1) return 'SPLIT_V sizes may hold at most one -1';
  if (unknown === 1) {
    if (typeof dim !== 'number') return 'SPLIT_V with a -1 size needs a static dim along the axis';
    const known = sizes.reduce((n, s) => (s === -1 ? n : n + s), 0);
    return { axis: normalized, sizes: sizes.map((s) => (s === -1 ? dim - known : s)) };
  }
  return { axis: normalized, sizes };
}

const split: RaiseRule = {
  ops: ['tflite.SPLIT', 'tflite.SPLIT_V'],
  targets: ['Split'],
  check(node) {
    const spec = splitSizes(node);
    return typeof spec === 'string' ? spec : undefined;
  },
  raise(node, context) {
    const emit = new CanonicalEmitter(node);
    const { axis, sizes } = splitSizes(node) as { axis: number; sizes: number[] };
    const attributes = { axis: attrs.int(axis), ...(context.opset >= 18 ? { num_outputs: attrs.int(sizes.length) } : {}) };
    const splitSizesValue = emit.int64(sizes, 'split');
    const parts = emit.at.create('onnx.Split', [splitOperands(node).x, splitSizesValue], attributes, {
      outputs: sizes.length,
      types: node.outputs.map((v) => v!.type),
      name: `${node.name}_split`,
    }).outputs;
    replaceRaised(node, parts);
  },
};

interface SliceSpec {
  readonly starts: number[];
  readonly ends: number[];
  readonly steps: number[];
  readonly squeeze: number[];
}

/** STRIDED_SLICE masks → an ONNX Slice over every dim named by begin, then Squeeze of the shrunk axes. */
function stridedSliceSpec(node: Node): SliceSpec | string {
  const rank = rankOfValue(node.inputs[0]);
  if (rank === undefined) return 'needs the input rank';
  const begin = numbersOf(node.inputs[1]);
  const end = numbersOf(node.inputs[2]);
  const strides = node.inputs[3] ? numbersOf(node.inputs[3]) : undefined;
  if (!begin || !end || (node.inputs[3] && !strides)) return 'begin, end and strides must be constants';
  for (const mask of ['ellipsis_mask', 'new_axis_mask'] as const) if ((node.optionalAttr(mask, 'int') ?? 0) !== 0) return `${mask} is not supported yet`;
  if ((node.optionalAttr('offset', 'int') ?? 0) !== 0) return 'offset=true (ends relative to begins) is not supported yet';
  if (begin.length > rank) return `begin has ${begin.length} entries for a rank-${rank} input`;
  const beginMask = node.optionalAttr('begin_mask', 'int') ?? 0;
  const endMask = node.optionalAttr('end_mask', 'int') ?? 0;
  const shrinkMask = node.optionalAttr('shrink_axis_mask', 'int') ?? 0;
  const spec: SliceSpec = { starts: [], ends: [], steps: [], squeeze: [] };
  for (let axis = 0; axis < begin.length; axis++) {
    const step = strides?.[axis] ?? 1;
    if (step === 0) return `stride 0 on axis ${axis}`;
    const bit = 1 << axis;
    if (shrinkMask & bit) {
      const start = begin[axis]!;
      spec.starts.push(start);
      spec.ends.push(start === -1 ? PAST_THE_END : start + 1);
      spec.steps.push(1);
      spec.squeeze.push(axis);
      continue;
    }
    spec.starts.push(beginMask & bit ? (step > 0 ? 0 : -1) : begin[axis]!);
    spec.ends.push(endMask & bit ? (step > 0 ? PAST_THE_END : -PAST_THE_END) : end[axis]!);
    spec.steps.push(step);
  }
  return spec;
}

const stridedSlice: RaiseRule = {
  ops: ['tflite.STRIDED_SLICE'],
  targets: ['Slice', 'Squeeze'],
  check(node) {
    const spec = stridedSliceSpec(node);
    return typeof spec === 'string' ? spec : undefined;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const spec = stridedSliceSpec(node) as SliceSpec;
    const axes = spec.starts.map((_, i) => i);
    const outType = node.output(0).type;
    const sliced = emit.op1(
      'Slice',
      [node.input(0), emit.int64(spec.starts, 'starts'), emit.int64(spec.ends, 'ends'), emit.int64(axes, 'axes'), emit.int64(spec.steps, 'steps')],
      {},
      spec.squeeze.length === 0 ? outType : { kind: 'tensor', dtype: tensorTypeOf(node.outputs[0])?.dtype ?? 'float32', shape: null },
    );
    replaceRaised(node, [spec.squeeze.length === 0 ? sliced : emit.op1('Squeeze', [sliced, emit.int64(spec.squeeze, 'squeeze_axes')], {}, outType)]);
  },
};

export const slicingRaiseRules: readonly RaiseRule[] = [shape, cast, split, stridedSlice];
