import { attrs, type Attribute, type Node, type Type, type Value } from '@modelpass/ir';
import { transposeTensor } from '@modelpass/transforms';
import { constantOf, numbersOf } from '../../legalize/constant-values.js';
import { dimsOf } from '../../legalize/lowering-tools.js';
import { CanonicalEmitter, replaceRaised } from '../canonical-emitter.js';
import { withArticle } from './quantized.js';
import { raisedConstantOf } from './shape.js';
import type { RaiseRule } from '../raise-rule.js';

/** TFLite's SAME padding for one spatial dim: [before, after]. */
function samePads(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const effective = (kernel - 1) * dilation + 1;
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + effective - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** ONNX padding attributes for a TFLite `padding` over NHWC input `x`. */
function paddingAttributes(node: Node, x: Value, kernel: readonly number[], strides: readonly number[], dilations: readonly number[]): Record<string, Attribute> {
  if ((node.optionalAttr('padding', 'string') ?? 'SAME') === 'VALID') return {};
  const dims = dimsOf(x);
  const h = dims?.[1];
  const w = dims?.[2];
  if (typeof h !== 'number' || typeof w !== 'number') return { auto_pad: attrs.string('SAME_UPPER') };
  const [top, bottom] = samePads(h, kernel[0]!, strides[0]!, dilations[0]!);
  const [left, right] = samePads(w, kernel[1]!, strides[1]!, dilations[1]!);
  return { pads: attrs.ints([top, left, bottom, right]) };
}

function windowCheck(node: Node): string | undefined {
  if (dimsOf(node.inputs[0])?.length !== 4) return 'needs a rank-4 NHWC input with known rank';
  const fused = node.optionalAttr('fused_activation_function', 'string') ?? 'NONE';
  return ['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1', 'TANH'].includes(fused) ? undefined : `fused activation ${fused} has no ONNX equivalent`;
}

/** The NCHW type of the op's result before its fused activation (float32 reals when the output is quantized and an activation follows). */
function innerType(emit: CanonicalEmitter, node: Node): Type {
  return emit.preActivationType(emit.channelsFirstType(node.output(0).type), node.optionalAttr('fused_activation_function', 'string'));
}

function finish(emit: CanonicalEmitter, node: Node, nchw: Value): void {
  const activated = emit.activation(nchw, node.optionalAttr('fused_activation_function', 'string'), emit.channelsFirstType(node.output(0).type));
  replaceRaised(node, [emit.toChannelsLast(activated as Value)]);
}

const conv: RaiseRule = {
  ops: ['tflite.CONV_2D', 'tflite.DEPTHWISE_CONV_2D'],
  targets: ['Conv', 'Relu', 'Clip', 'Transpose'],
  check(node) {
    const wrong = windowCheck(node);
    if (wrong) return wrong;
    const filter = raisedConstantOf(node.inputs[1]);
    if (!filter) return 'the filter must be a constant (or a DEQUANTIZE of one)';
    if (node.inputs[2] && !raisedConstantOf(node.inputs[2])) return 'the bias must be a constant';
    if (filter.dtype !== 'float32' && !filter.quant) return `${withArticle(filter.dtype)} filter without quantization parameters is not supported (float32 or a quantized integer filter expected)`;
    return undefined;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const filter = constantOf(node.inputs[1])!;
    const depthwise = node.op === 'tflite.DEPTHWISE_CONV_2D';
    // CONV_2D OHWI → OIHW; DEPTHWISE [1, H, W, C·M] → [C·M, 1, H, W]
    const weight = transposeTensor(filter, depthwise ? [3, 0, 1, 2] : [0, 3, 1, 2]);
    const kernel = weight.shape.slice(2);
    const strides = [node.optionalAttr('stride_h', 'int') ?? 1, node.optionalAttr('stride_w', 'int') ?? 1];
    const dilations = [node.optionalAttr('dilation_h_factor', 'int') ?? 1, node.optionalAttr('dilation_w_factor', 'int') ?? 1];
    const x = node.input(0);
    const channels = dimsOf(x)![3];
    const group = depthwise ? (channels as number) : typeof channels === 'number' ? channels / weight.shape[1]! : 1;
    const attributes: Record<string, Attribute> = {
      kernel_shape: attrs.ints(kernel),
      strides: attrs.ints(strides),
      dilations: attrs.ints(dilations),
      ...paddingAttributes(node, x, kernel, strides, dilations),
      ...(group !== 1 ? { group: attrs.int(group) } : {}),
    };
    const bias = constantOf(node.inputs[2]);
    const y = emit.op1('Conv', [emit.toChannelsFirst(x), emit.constant(weight, 'weight'), bias ? emit.constant(bias, 'bias') : null], attributes, innerType(emit, node));
    finish(emit, node, y);
  },
};

/** A transposed convolution in ONNX's terms: ConvTranspose's pads, output_padding, kernel and strides. */
export interface TransposeConvPlan {
  pads: number[];
  outputPadding: number[];
  kernel: number[];
  strides: number[];
}

/** The settings of a transposed convolution in TFLite's terms (TRANSPOSE_CONV, or a custom op with the same kernel). */
export interface TransposeConvSettings {
  /** NHWC output shape: TRANSPOSE_CONV's `output_shape` input, or the output tensor's static shape. */
  outputShape: readonly number[] | undefined;
  /** OHWI filter. */
  filter: Value | null | undefined;
  /** NHWC input. */
  input: Value | null | undefined;
  same: boolean;
  /** [stride_h, stride_w]. */
  strides: readonly number[];
}

/**
 * TRANSPOSE_CONV's layout and padding in ONNX terms: TFLite pads as for the forward convolution that
 * maps the output (its `output_shape`) back to the input (SAME: ceil(out/stride) rows, VALID:
 * (out − k)/stride + 1; total padding (rows − 1)·stride + k − out, clamped at 0, the odd one after),
 * and writes `output_shape`: ONNX's ConvTranspose gives s·(in − 1) + k − pads, so any difference
 * is `output_padding` (ONNX allows it below the stride).
 */
export function transposeConvPlanOf(settings: TransposeConvSettings): TransposeConvPlan | string {
  const { outputShape, same, strides } = settings;
  const filter = raisedConstantOf(settings.filter);
  const inDims = dimsOf(settings.input);
  if (!outputShape || outputShape.length !== 4) return 'the output_shape must be a constant of 4 dims (NHWC)';
  if (!filter || filter.rank !== 4) return 'the filter must be a rank-4 constant (OHWI, or a DEQUANTIZE of one)';
  if (filter.dtype !== 'float32' && !filter.quant) return `${withArticle(filter.dtype)} filter without quantization parameters is not supported (float32 or a quantized integer filter expected)`;
  if (!inDims || inDims.length !== 4 || typeof inDims[1] !== 'number' || typeof inDims[2] !== 'number' || typeof inDims[3] !== 'number') return 'needs a rank-4 NHWC input with static H, W and channels';
  if (filter.shape[3] !== inDims[3]) return `the filter's ${filter.shape[3]} input channels differ from the input's ${inDims[3]}`;
  if (filter.shape[0] !== outputShape[3]) return `the filter's ${filter.shape[0]} output channels differ from output_shape's ${outputShape[3]}`;
  if (strides.some((stride) => !Number.isInteger(stride) || stride < 1)) return `strides ${strides.join(',')} must be positive integers`;
  const kernel = [filter.shape[1]!, filter.shape[2]!];
  const pads = [0, 0, 0, 0];
  const outputPadding = [0, 0];
  for (let i = 0; i < 2; i++) {
    const out = outputShape[1 + i]!;
    const stride = strides[i]!;
    const rows = same ? Math.ceil(out / stride) : Math.floor((out - kernel[i]!) / stride) + 1;
    const total = Math.max((rows - 1) * stride + kernel[i]! - out, 0);
    pads[i] = Math.floor(total / 2);
    pads[i + 2] = total - pads[i]!;
    const onnxOut = stride * ((inDims[1 + i] as number) - 1) + kernel[i]! - total;
    const extra = out - onnxOut;
    if (extra < 0 || extra >= stride) return `output_shape ${out} along ${i === 0 ? 'H' : 'W'} is not reachable from the input's ${inDims[1 + i]} with stride ${stride}, kernel ${kernel[i]} and ${same ? 'SAME' : 'VALID'} padding`;
    outputPadding[i] = extra;
  }
  return { pads, outputPadding, kernel: [...kernel], strides: [...strides] };
}

function transposeConvPlan(node: Node): TransposeConvPlan | string {
  return transposeConvPlanOf({
    outputShape: numbersOf(node.inputs[0]),
    filter: node.inputs[1],
    input: node.inputs[2],
    same: (node.optionalAttr('padding', 'string') ?? 'SAME') !== 'VALID',
    strides: [node.optionalAttr('stride_h', 'int') ?? 1, node.optionalAttr('stride_w', 'int') ?? 1],
  });
}

/** ConvTranspose (NCHW, between layout transposes) for a planned TFLite transposed convolution, then the node's fused activation. */
export function raiseTransposeConv(node: Node, input: Value, filter: Value, bias: Value | null | undefined, plan: TransposeConvPlan): void {
  const emit = new CanonicalEmitter(node);
  // TFLite OHWI [Cout, kH, kW, Cin] → ONNX [Cin, Cout, kH, kW]
  const weight = transposeTensor(constantOf(filter)!, [3, 0, 1, 2]);
  const biasTensor = bias ? constantOf(bias) : undefined;
  const attributes: Record<string, Attribute> = {
    kernel_shape: attrs.ints(plan.kernel),
    strides: attrs.ints(plan.strides),
    pads: attrs.ints(plan.pads),
    ...(plan.outputPadding.some((p) => p !== 0) ? { output_padding: attrs.ints(plan.outputPadding) } : {}),
  };
  const y = emit.op1('ConvTranspose', [emit.toChannelsFirst(input), emit.constant(weight, 'weight'), biasTensor ? emit.constant(biasTensor, 'bias') : null], attributes, innerType(emit, node));
  finish(emit, node, y);
}

const transposeConv: RaiseRule = {
  ops: ['tflite.TRANSPOSE_CONV'],
  targets: ['ConvTranspose', 'Relu', 'Clip', 'Transpose'],
  check(node) {
    const fused = node.optionalAttr('fused_activation_function', 'string') ?? 'NONE';
    if (!['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1', 'TANH'].includes(fused)) return `fused activation ${fused} has no ONNX equivalent`;
    if (node.inputs[3] && !raisedConstantOf(node.inputs[3])) return 'the bias must be a constant';
    const plan = transposeConvPlan(node);
    return typeof plan === 'string' ? plan : undefined;
  },
  raise(node) {
    const plan = transposeConvPlan(node) as TransposeConvPlan;
    raiseTransposeConv(node, node.input(2), node.input(1), node.inputs[3], plan);
  },
};

const pool: RaiseRule = {
  ops: ['tflite.MAX_POOL_2D', 'tflite.AVERAGE_POOL_2D'],
  targets: ['MaxPool', 'AveragePool', 'Transpose'],
  check: windowCheck,
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const kernel = [node.attr('filter_height', 'int'), node.attr('filter_width', 'int')];
    const strides = [node.optionalAttr('stride_h', 'int') ?? 1, node.optionalAttr('stride_w', 'int') ?? 1];
    const x = node.input(0);
    const attributes = { kernel_shape: attrs.ints(kernel), strides: attrs.ints(strides), ...paddingAttributes(node, x, kernel, strides, [1, 1]) };
    const op = node.op === 'tflite.MAX_POOL_2D' ? 'MaxPool' : 'AveragePool';
    finish(emit, node, emit.op1(op, [emit.toChannelsFirst(x)], attributes, innerType(emit, node)));
  },
};

const resize: RaiseRule = {
  ops: ['tflite.RESIZE_BILINEAR', 'tflite.RESIZE_NEAREST_NEIGHBOR'],
  targets: ['Resize', 'Transpose'],
  check(node) {
    const dims = dimsOf(node.inputs[0]);
    if (dims?.length !== 4 || typeof dims[0] !== 'number' || typeof dims[3] !== 'number') return 'needs a rank-4 input with static batch and channels';
    if (!numbersOf(node.inputs[1])) return 'the size must be a constant';
    return undefined;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const dims = dimsOf(node.inputs[0])! as number[];
    const [height, width] = numbersOf(node.inputs[1])!;
    const alignCorners = (node.optionalAttr('align_corners', 'int') ?? 0) === 1;
    const halfPixel = (node.optionalAttr('half_pixel_centers', 'int') ?? 0) === 1;
    const bilinear = node.op === 'tflite.RESIZE_BILINEAR';
    const transform = alignCorners ? 'align_corners' : halfPixel ? 'half_pixel' : 'asymmetric';
    const attributes: Record<string, Attribute> = { mode: attrs.string(bilinear ? 'linear' : 'nearest'), coordinate_transformation_mode: attrs.string(transform) };
    if (!bilinear) attributes['nearest_mode'] = attrs.string(alignCorners || halfPixel ? 'round_prefer_ceil' : 'floor');
    const sizes = emit.int64([dims[0]!, dims[3]!, height!, width!], 'sizes');
    const y = emit.op1('Resize', [emit.toChannelsFirst(node.input(0)), null, null, sizes], attributes, emit.channelsFirstType(node.output(0).type));
    replaceRaised(node, [emit.toChannelsLast(y)]);
  },
};

function blockRule(builtin: string, op: string): RaiseRule {
  return {
    ops: [`tflite.${builtin}`],
    targets: [op, 'Transpose'],
    check: (node) => (dimsOf(node.inputs[0])?.length === 4 ? undefined : 'needs a rank-4 NHWC input'),
    raise(node) {
      const emit = new CanonicalEmitter(node);
      const attributes: Record<string, Attribute> = { blocksize: attrs.int(node.attr('block_size', 'int')), ...(op === 'DepthToSpace' ? { mode: attrs.string('DCR') } : {}) };
      const y = emit.op1(op, [emit.toChannelsFirst(node.input(0))], attributes, emit.channelsFirstType(node.output(0).type));
      replaceRaised(node, [emit.toChannelsLast(y)]);
    },
  };
}

/** TFLite's SAME padding of a 3-D window, as ONNX pads [d, h, w begins…, ends…] over NDHWC input `x`, or auto_pad when a dim is unknown. */
function volumePaddingAttributes(node: Node, x: Value, kernel: readonly number[], strides: readonly number[], dilations: readonly number[]): Record<string, Attribute> {
  if ((node.optionalAttr('padding', 'string') ?? 'SAME') === 'VALID') return {};
  const dims = dimsOf(x)?.slice(1, 4);
  if (!dims || dims.some((d) => typeof d !== 'number')) return { auto_pad: attrs.string('SAME_UPPER') };
  const pairs = dims.map((size, i) => samePads(size as number, kernel[i]!, strides[i]!, dilations[i]!));
  return { pads: attrs.ints([...pairs.map((p) => p[0]), ...pairs.map((p) => p[1])]) };
}

/** CONV_3D: NDHWC input, filter [kD, kH, kW, in, out] (DHWIO) → Conv on NCDHW with an [out, in, kD, kH, kW] weight; group = input channels / filter's in. */
const conv3d: RaiseRule = {
  ops: ['tflite.CONV_3D'],
  targets: ['Conv', 'Relu', 'Clip', 'Transpose'],
  check(node) {
    if (dimsOf(node.inputs[0])?.length !== 5) return 'needs a rank-5 NDHWC input with known rank';
    const fused = node.optionalAttr('fused_activation_function', 'string') ?? 'NONE';
    if (!['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1', 'TANH'].includes(fused)) return `fused activation ${fused} has no ONNX equivalent`;
    const filter = raisedConstantOf(node.inputs[1]);
    if (!filter || filter.rank !== 5) return 'the filter must be a rank-5 constant (DHWIO, or a DEQUANTIZE of one)';
    if (filter.dtype !== 'float32' && !filter.quant) return `${withArticle(filter.dtype)} filter without quantization parameters is not supported (float32 or a quantized integer filter expected)`;
    if (node.inputs[2] && !raisedConstantOf(node.inputs[2])) return 'the bias must be a constant';
    const channels = dimsOf(node.inputs[0])![4];
    if (typeof channels !== 'number' || channels % filter.shape[3]! !== 0) return `the input's ${String(channels)} channels are not a multiple of the filter's ${filter.shape[3]} input channels`;
    return undefined;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const weight = transposeTensor(constantOf(node.inputs[1])!, [4, 3, 0, 1, 2]);
    const kernel = weight.shape.slice(2);
    const strides = ['d', 'h', 'w'].map((axis) => node.optionalAttr(`stride_${axis}`, 'int') ?? 1);
    const dilations = ['d', 'h', 'w'].map((axis) => node.optionalAttr(`dilation_${axis}_factor`, 'int') ?? 1);
    const x = node.input(0);
    const group = (dimsOf(x)![4] as number) / weight.shape[1]!;
    const attributes: Record<string, Attribute> = {
      kernel_shape: attrs.ints(kernel),
      strides: attrs.ints(strides),
      dilations: attrs.ints(dilations),
      ...volumePaddingAttributes(node, x, kernel, strides, dilations),
      ...(group !== 1 ? { group: attrs.int(group) } : {}),
    };
    const bias = constantOf(node.inputs[2]);
    const y = emit.op1('Conv', [emit.toChannelsFirst(x), emit.constant(weight, 'weight'), bias ? emit.constant(bias, 'bias') : null], attributes, innerType(emit, node));
    finish(emit, node, y);
  },
};

export const windowRaiseRules: readonly RaiseRule[] = [conv, conv3d, transposeConv, pool, resize, blockRule('DEPTH_TO_SPACE', 'DepthToSpace'), blockRule('SPACE_TO_DEPTH', 'SpaceToDepth')];
