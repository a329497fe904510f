import { sliceAlongAxis, Tensor, type Node, type Value } from '@modelpass/ir';
import { transposeTensor } from '@modelpass/transforms';
import { constantOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, TfliteEmitter, typeWithShape } from '../lowering-tools.js';
import { channelsLastType, toChannelsFirst, toChannelsLast } from './channels-last.js';
import { resolvePadding, windowGeometry, type WindowPadding } from './padding.js';

function convKernel(node: Node): number[] | undefined {
  const weight = constantOf(node.inputs[1]);
  return node.optionalAttr('kernel_shape', 'ints')?.slice() ?? weight?.shape.slice(2);
}

/** Pads NHWC `x` explicitly (with `value` when given, else zeros) and returns the padded value. */
export function explicitPad(emit: TfliteEmitter, x: Value, padding: WindowPadding & { kind: 'explicit' }, value?: number): Value {
  const dims = dimsOf(x)!;
  const paddings = [0, 0, padding.begins[0]!, padding.ends[0]!, padding.begins[1]!, padding.ends[1]!, 0, 0];
  const outDims = dims.map((d, i) => (i === 1 || i === 2) && typeof d === 'number' ? d + padding.begins[i - 1]! + padding.ends[i - 1]! : i === 1 || i === 2 ? null : d);
  const type = typeWithShape(x.type, outDims);
  if (value === undefined) return emit.op1('PAD', [x, emit.int32(paddings, [4, 2], 'paddings')], {}, type);
  const constantValue = emit.constant(Tensor.fromValues('float32', [], [value]), 'pad_value');
  return emit.op1('PADV2', [x, emit.int32(paddings, [4, 2], 'paddings'), constantValue], {}, type);
}

export function checkWindow2d(node: Node, what: string): string | undefined {
  const dims = dimsOf(node.inputs[0]);
  if (!dims) return `${what} needs the input's rank (run shape inference first)`;
  if (dims.length !== 4) return `only 2-D ${what}s (an NCHW input of rank 4) map to TFLite; this input has rank ${dims.length}`;
  return undefined;
}

const conv: LoweringRule = {
  ops: ['onnx.Conv'],
  stage: 'layout',
  targets: ['CONV_2D', 'DEPTHWISE_CONV_2D', 'PAD', 'SPLIT', 'CONCATENATION'],
  check(node) {
    const window = checkWindow2d(node, 'convolution');
    if (window) return window;
    const weight = constantOf(node.inputs[1]);
    if (!weight) return 'the weights must be a constant (TFLite CONV_2D takes a constant filter)';
    // int8 weights with quant<> parameters: the int8 lowering (legalize/quantized) checked them and finishes the bias.
    if (weight.dtype !== 'float32' && !(weight.dtype === 'int8' && weight.quant)) return `weights of dtype ${weight.dtype} are not supported yet (float32 only)`;
    if (node.inputs[2] && !constantOf(node.inputs[2])) return 'the bias must be a constant';
    const padding = resolvePadding(node, dimsOf(node.inputs[0])!.slice(2), windowGeometry(node, convKernel(node)!));
    return typeof padding === 'string' ? padding : undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const weight = constantOf(node.inputs[1])!;
    const [outChannels, inPerGroup] = weight.shape as [number, number];
    const group = node.optionalAttr('group', 'int') ?? 1;
    const geometry = windowGeometry(node, convKernel(node)!);
    const padding = resolvePadding(node, dimsOf(node.inputs[0])!.slice(2), geometry) as WindowPadding;
    const bias = constantOf(node.inputs[2]) ?? Tensor.fromValues('float32', [outChannels], new Array<number>(outChannels).fill(0));
    let x = toChannelsLast(emit, node.input(0));
    if (padding.kind === 'explicit') x = explicitPad(emit, x, padding);
    const options = {
      padding: padding.kind === 'SAME' ? 'SAME' : 'VALID',
      stride_h: geometry.strides[0]!,
      stride_w: geometry.strides[1]!,
      dilation_h_factor: geometry.dilations[0]!,
      dilation_w_factor: geometry.dilations[1]!,
      fused_activation_function: 'NONE',
    };
    const outType = channelsLastType(node);
    let y: Value;
    if (group > 1 && inPerGroup === 1) {
      // depthwise: filter [1, kH, kW, C*M]
      const filter = transposeTensor(weight, [1, 2, 3, 0]);
      y = emit.op1('DEPTHWISE_CONV_2D', [x, emit.constant(filter, 'filter'), emit.constant(bias, 'bias')], { ...options, depth_multiplier: outChannels / group }, outType);
    } else if (group === 1 || context.options.groupedConv === 'native') {
      const filter = transposeTensor(weight, [0, 2, 3, 1]);
      y = emit.op1('CONV_2D', [x, emit.constant(filter, 'filter'), emit.constant(bias, 'bias')], options, outType);
    } else {
      y = groupedConv(emit, x, weight, bias, group, options, outType);
    }
    replaceNode(node, [toChannelsFirst(emit, y)]);
  },
};

/** Rows [start, end) along axis 0 of a loaded tensor: a view of its bytes (no copy, no gather). */
export function leadingRows(tensor: Tensor, start: number, end: number): Tensor {
  const rows = tensor.shape[0]!;
  const bytes = tensor.bytes();
  if (rows === 0 || bytes.byteLength % rows !== 0) return sliceAlongAxis(tensor, 0, start, end);
  const rowBytes = bytes.byteLength / rows;
  return Tensor.fromBytes(tensor.dtype, [end - start, ...tensor.shape.slice(1)], bytes.subarray(start * rowBytes, end * rowBytes), tensor.quant);
}

/** The tensor with its bytes in memory (read from the file once, not once per group). */
export function loaded(tensor: Tensor): Tensor {
  return tensor.isLoaded ? tensor : Tensor.fromBytes(tensor.dtype, tensor.shape, tensor.bytes(), tensor.quant);
}

/** A grouped convolution as SPLIT → one CONV_2D per group → CONCATENATION (channels last). */
function groupedConv(emit: TfliteEmitter, x: Value, weight: Tensor, bias: Tensor, group: number, options: Record<string, string | number>, outType: Value['type']): Value {
  const xDims = dimsOf(x)!;
  const outDims = (outType as { shape: readonly (number | string | null)[] }).shape;
  const inPerGroup = weight.shape[1]!;
  const outPerGroup = weight.shape[0]! / group;
  const splitType = typeWithShape(x.type, [xDims[0]!, xDims[1]!, xDims[2]!, inPerGroup]);
  const parts = emit.op('SPLIT', [emit.int32([3], [], 'split_axis'), x], { num_splits: group }, new Array(group).fill(splitType)).outputs;
  const partType = typeWithShape(outType, [outDims[0]!, outDims[1]!, outDims[2]!, outPerGroup]);
  // One transpose of the whole filter (OIHW → OHWI), read once; each group is then a run of whole rows.
  const filters = loaded(transposeTensor(weight, [0, 2, 3, 1]));
  const biases = loaded(bias);
  const convOptions = emit.attributes('CONV_2D', options); // typed once, not once per group
  const convs = parts.map((part, g) => {
    const filter = leadingRows(filters, g * outPerGroup, (g + 1) * outPerGroup);
    const groupBias = leadingRows(biases, g * outPerGroup, (g + 1) * outPerGroup);
    return emit.op1('CONV_2D', [part!, emit.constant(filter, `filter_g${g}`), emit.constant(groupBias, `bias_g${g}`)], convOptions, partType);
  });
  return emit.op1('CONCATENATION', convs, { axis: 3, fused_activation_function: 'NONE' }, outType);
}

export const convRules: readonly LoweringRule[] = [conv];
