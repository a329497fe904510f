import { Tensor, type Dim, type Node, type Value } from '@modelpass/ir';
import { transposeTensor } from '@modelpass/transforms';
import { constantOf } from '../constant-values.js';
import type { LoweringContext, LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, TfliteEmitter, typeWithShape } from '../lowering-tools.js';
import { channelsLastType, toChannelsFirst, toChannelsLast } from './channels-last.js';
import { resolvePadding, windowGeometry, type WindowPadding } from './padding.js';
import { unitDimWindowRules } from './unit-dim-window.js';

/**
 * 3-D windows (`[N, C, D, H, W]`), in NDHWC between the layout transposes:
 * - Conv → CONV_3D (filter `[kD, kH, kW, Cin, Cout]`; explicit pads as a PAD first);
 * - MaxPool/AveragePool: TFLite 2.9 has no 3-D pool builtin, so a box over (D, H, W) is a 2-D pool
 *   over (H, W) of `[N·D, H, W, C]`, then a 2-D pool with a `kD × 1` window over `[N, D, H'·W', C]`.
 *   Max of maxes is the max; for averages the mean of means is the mean of the box, also where SAME
 *   padding leaves cells out (each (h, w) column has the same count in every depth slice).
 * Other ranks go to the 1-D/2-D rules unchanged.
 */

const LOWEST_FLOAT32 = -3.4028234663852886e38;

function kernelOf(node: Node): number[] | undefined {
  return node.optionalAttr('kernel_shape', 'ints')?.slice() ?? constantOf(node.inputs[1])?.shape.slice(2);
}

/** Whether a value's dims past the batch are all static. */
function staticPastBatch(value: Value | null | undefined): boolean {
  const dims = dimsOf(value);
  return !!dims && dims.slice(1).every((d) => typeof d === 'number');
}

function formatDims(value: Value | null | undefined): string {
  const dims = dimsOf(value);
  return dims ? `[${dims.map((d) => (d === null ? '?' : String(d))).join(',')}]` : 'of unknown shape';
}

function padding3d(node: Node): WindowPadding | string {
  const kernel = kernelOf(node)!;
  const ceil = (node.optionalAttr('ceil_mode', 'int') ?? 0) === 1;
  const geometry = windowGeometry(node, kernel);
  const padding = resolvePadding(node, dimsOf(node.inputs[0])!.slice(2), geometry, ceil);
  // TFLite's SAME average leaves the padding out of the count: with count_include_pad=1 the zeros are padded explicitly.
  const countsPadding = node.op === 'onnx.AveragePool' && (node.optionalAttr('count_include_pad', 'int') ?? 0) === 1;
  if (!countsPadding || typeof padding === 'string' || padding.kind !== 'SAME') return padding;
  const sizes = dimsOf(node.inputs[0])!.slice(2) as number[];
  const totals = sizes.map((size, i) => Math.max((Math.ceil(size / geometry.strides[i]!) - 1) * geometry.strides[i]! + kernel[i]! - size, 0));
  const lower = node.optionalAttr('auto_pad', 'string') === 'SAME_LOWER';
  const begins = totals.map((total) => (lower ? total - Math.floor(total / 2) : Math.floor(total / 2)));
  return { kind: 'explicit', begins, ends: totals.map((total, i) => total - begins[i]!) };
}

/** PAD (zeros) or PADV2 (`value`) of an NDHWC value by explicit spatial pads. */
function pad3d(emit: TfliteEmitter, x: Value, padding: WindowPadding & { kind: 'explicit' }, value?: number): Value {
  const dims = dimsOf(x)!;
  const paddings = [0, 0, ...padding.begins.flatMap((b, i) => [b, padding.ends[i]!]), 0, 0];
  const type = typeWithShape(x.type, dims.map((d, i) => (i >= 1 && i <= 3 ? (d as number) + padding.begins[i - 1]! + padding.ends[i - 1]! : d)));
  const amounts = emit.int32(paddings, [5, 2], 'paddings');
  if (value === undefined) return emit.op1('PAD', [x, amounts], {}, type);
  return emit.op1('PADV2', [x, amounts, emit.constant(Tensor.fromValues('float32', [], [value]), 'pad_value')], {}, type);
}

function checkVolume(node: Node): string | undefined {
  // The batch may be symbolic (a dynamic-batch export): CONV_3D takes it as it comes, the pools' RESHAPEs as -1.
  if (!staticPastBatch(node.inputs[0]) || !staticPastBatch(node.outputs[0])) return `3-D windows need static channels and spatial dims (D, H, W); input ${formatDims(node.inputs[0])}, output ${formatDims(node.outputs[0])}`;
  if (node.op === 'onnx.Conv') {
    const weight = constantOf(node.inputs[1]);
    if (!weight || weight.dtype !== 'float32') return 'the weights of a 3-D Conv must be a float32 constant';
    if (node.inputs[2] && !constantOf(node.inputs[2])) return 'the bias must be a constant';
    const group = node.optionalAttr('group', 'int') ?? 1;
    if (group < 1 || weight.shape[0]! % group !== 0) return `group ${group} does not divide the ${weight.shape[0]} output channels`;
  } else {
    if (node.outputs[1]?.hasUses) return 'the Indices output of MaxPool has no TFLite equivalent';
    if ((node.optionalAttr('dilations', 'ints') ?? []).some((d) => d !== 1)) return 'dilated 3-D pooling has no TFLite equivalent';
    if (tensorDtype(node) !== 'float32') return '3-D pooling is supported on float32 only';
  }
  const padding = padding3d(node);
  if (typeof padding === 'string') return padding;
  if (node.op === 'onnx.AveragePool' && padding.kind === 'explicit' && (node.optionalAttr('count_include_pad', 'int') ?? 0) === 0) {
    return 'AveragePool 3-D with explicit pads that exclude the padding from the count (count_include_pad=0) only maps when the pads equal SAME';
  }
  return undefined;
}

function tensorDtype(node: Node): string | undefined {
  const type = node.inputs[0]?.type;
  return type?.kind === 'tensor' ? type.dtype : undefined;
}

function lowerConv3d(node: Node, context: LoweringContext): void {
  const emit = new TfliteEmitter(node, context);
  const weight = constantOf(node.inputs[1])!;
  const geometry = windowGeometry(node, kernelOf(node)!);
  const padding = padding3d(node) as WindowPadding;
  let x = toChannelsLast(emit, node.input(0));
  if (padding.kind === 'explicit') x = pad3d(emit, x, padding);
  const outChannels = weight.shape[0]!;
  const bias = constantOf(node.inputs[2]) ?? Tensor.fromValues('float32', [outChannels], new Array<number>(outChannels).fill(0));
  const options = {
    padding: padding.kind === 'SAME' ? 'SAME' : 'VALID',
    stride_d: geometry.strides[0]!,
    stride_h: geometry.strides[1]!,
    stride_w: geometry.strides[2]!,
    dilation_d_factor: geometry.dilations[0]!,
    dilation_h_factor: geometry.dilations[1]!,
    dilation_w_factor: geometry.dilations[2]!,
    fused_activation_function: 'NONE',
  };
  const outType = channelsLastType(node);
  const group = node.optionalAttr('group', 'int') ?? 1;
  if (group === 1) {
    const filter = transposeTensor(weight, [2, 3, 4, 1, 0]);
    const y = emit.op1('CONV_3D', [x, emit.constant(filter, 'filter'), emit.constant(bias, 'bias')], options, outType);
    replaceNode(node, [toChannelsFirst(emit, y)]);
    return;
  }
  // Grouped: SPLIT the input channels, one CONV_3D per group (its output channels), CONCATENATION.
  const xDims = dimsOf(x)!;
  const inPerGroup = weight.shape[1]!;
  const outPerGroup = outChannels / group;
  const outDims = (outType as { shape: readonly Dim[] }).shape;
  const parts = emit.op('SPLIT', [emit.int32([4], [], 'split_axis'), x], { num_splits: group }, new Array(group).fill(typeWithShape(x.type, [...xDims.slice(0, 4), inPerGroup]))).outputs;
  const weights = weight.toNumbers();
  const biases = bias.toNumbers();
  const perFilter = weights.length / outChannels;
  const convs = parts.map((part, g) => {
    const rows = Tensor.fromValues('float32', [outPerGroup, ...weight.shape.slice(1)], weights.slice(g * outPerGroup * perFilter, (g + 1) * outPerGroup * perFilter));
    const groupBias = Tensor.fromValues('float32', [outPerGroup], biases.slice(g * outPerGroup, (g + 1) * outPerGroup));
    return emit.op1('CONV_3D', [part!, emit.constant(transposeTensor(rows, [2, 3, 4, 1, 0]), `filter_g${g}`), emit.constant(groupBias, `bias_g${g}`)], options, typeWithShape(outType, [...outDims.slice(0, 4), outPerGroup]));
  });
  replaceNode(node, [toChannelsFirst(emit, emit.op1('CONCATENATION', convs, { axis: 4, fused_activation_function: 'NONE' }, outType))]);
}

function lowerPool3d(node: Node, context: LoweringContext): void {
  const emit = new TfliteEmitter(node, context);
  const kernel = kernelOf(node)!;
  const geometry = windowGeometry(node, kernel);
  const padding = padding3d(node) as WindowPadding;
  const max = node.op === 'onnx.MaxPool';
  const builtin = max ? 'MAX_POOL_2D' : 'AVERAGE_POOL_2D';
  let x = toChannelsLast(emit, node.input(0));
  if (padding.kind === 'explicit') x = pad3d(emit, x, padding, max ? LOWEST_FLOAT32 : undefined);
  const [batch, d, h, w, c] = dimsOf(x) as [Dim, number, number, number, number];
  const outDims = dimsOf(node.outputs[0]) as number[];
  const [outD, outH, outW] = [outDims[2]!, outDims[3]!, outDims[4]!];
  // A symbolic batch: -1 in the RESHAPE targets (one unknown each), unknown in the types.
  const n = typeof batch === 'number' ? batch : -1;
  const nd = typeof batch === 'number' ? batch * d : -1;
  const dim = (value: number): Dim => (value === -1 ? null : value);
  const mode = padding.kind === 'SAME' ? 'SAME' : 'VALID';
  const type = (shape: number[]) => typeWithShape(x.type, shape.map(dim));
  const planes = emit.op1('RESHAPE', [x, emit.int32([nd, h, w, c], [4], 'planes_shape')], {}, type([nd, h, w, c]));
  const pooledPlanes = emit.op1(builtin, [planes], { padding: mode, stride_h: geometry.strides[1]!, stride_w: geometry.strides[2]!, filter_height: kernel[1]!, filter_width: kernel[2]!, fused_activation_function: 'NONE' }, type([nd, outH, outW, c]));
  const columns = emit.op1('RESHAPE', [pooledPlanes, emit.int32([n, d, outH * outW, c], [4], 'columns_shape')], {}, type([n, d, outH * outW, c]));
  const pooled = emit.op1(builtin, [columns], { padding: mode, stride_h: geometry.strides[0]!, stride_w: 1, filter_height: kernel[0]!, filter_width: 1, fused_activation_function: 'NONE' }, type([n, outD, outH * outW, c]));
  const volume = emit.op1('RESHAPE', [pooled, emit.int32([n, outD, outH, outW, c], [5], 'volume_shape')], {}, channelsLastType(node));
  replaceNode(node, [toChannelsFirst(emit, volume), null]);
}

function withVolume(rule: LoweringRule): LoweringRule {
  return {
    ops: rule.ops,
    stage: rule.stage,
    targets: [...rule.targets, ...(rule.ops.includes('onnx.Conv') ? ['CONV_3D'] : ['RESHAPE'])],
    check: (node, context) => (dimsOf(node.inputs[0])?.length === 5 ? checkVolume(node) : rule.check(node, context)),
    lower(node, context) {
      if (dimsOf(node.inputs[0])?.length !== 5) return rule.lower(node, context);
      if (node.op === 'onnx.Conv') lowerConv3d(node, context);
      else lowerPool3d(node, context);
    },
  };
}

export const volumeWindowRules: readonly LoweringRule[] = unitDimWindowRules.map(withVolume);
