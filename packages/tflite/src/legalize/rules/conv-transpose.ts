import { attrs, Builder, GraphBuilder, Tensor, tensorType, type Attribute, type Dim, type Node, type Value } from '@modelpass/ir';
import { transposeTensor } from '@modelpass/transforms';
import { constantOf } from '../constant-values.js';
import type { LoweringContext, LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, TfliteEmitter, typeWithShape } from '../lowering-tools.js';
import { channelsLastType, toChannelsFirst, toChannelsLast } from './channels-last.js';
import { checkWindow2d, leadingRows, loaded } from './conv.js';
import { runTimeShape } from './run-time-dims.js';

/**
 * ConvTranspose (2-D) → TRANSPOSE_CONV with VALID padding to the full, uncropped output
 * ((in − 1)·stride + dilated kernel + output_padding), then a STRIDED_SLICE that crops ONNX's pads
 * (explicit, auto_pad, or the ones an output_shape implies). TRANSPOSE_CONV has no dilation: a
 * dilated kernel is the kernel with zeros between its taps. Grouped: SPLIT the input channels, one
 * TRANSPOSE_CONV per group (its rows of the weight), CONCATENATION. Spatial dims known only at run time: see
 * `runTimePlan`.
 */

interface TransposePlan {
  readonly kernel: number[];
  /** The uncropped output's spatial dims. */
  readonly full: number[];
  /** Where ONNX's output starts inside the full one. */
  readonly begins: number[];
  readonly out: number[];
}

/** The spatial dims (after N and C) of a value whose dims past the batch are all static, else undefined. */
function spatialDims(value: Value | null | undefined): number[] | undefined {
  const dims = dimsOf(value);
  if (!dims || dims.length < 3 || dims.slice(1).some((d) => typeof d !== 'number')) return undefined;
  return dims.slice(2) as number[];
}

function formatDims(value: Value | null | undefined): string {
  const dims = dimsOf(value);
  return dims ? `[${dims.map((d) => (d === null ? '?' : String(d))).join(',')}]` : 'of unknown shape';
}

/** TRANSPOSE_CONV's output_shape `[N, H, W, C]`: a constant, or with a symbolic batch the input's batch at run time (SHAPE → GATHER) joined to the rest. */
function outputShapeOperand(emit: TfliteEmitter, x: Value, batch: Dim, rest: readonly number[]): Value {
  if (typeof batch === 'number') return emit.int32([batch, ...rest], [4], 'output_shape');
  const runTimeBatch = runTimeShape(emit, x, [0], 'batch_axis');
  return emit.op1('CONCATENATION', [runTimeBatch, emit.int32([...rest], [3], 'output_shape_rest')], { axis: 0, fused_activation_function: 'NONE' }, tensorType('int32', [4]));
}

/**
 * Spatial dims known only at run time (a dynamic-H/W export, PaddleOCR det's head): the full output is in·stride +
 * (kernel + output_padding − stride) per axis, computed from the input's SHAPE, and the crop keeps fixed margins —
 * ONNX's pads, or with auto_pad SAME the (kernel + output_padding − stride) the output is smaller by — so the
 * STRIDED_SLICE ends count from the end. output_shape (a static output) is not taken here.
 */
interface RunTimePlan {
  readonly kernel: number[];
  /** Added to in·stride for the full output: kernel + output_padding − stride. */
  readonly extra: number[];
  readonly begins: number[];
  /** What the crop leaves off at the end of each axis. */
  readonly endPads: number[];
}

function runTimePlan(node: Node): RunTimePlan | string {
  const weight = constantOf(node.inputs[1])!;
  const inDims = dimsOf(node.inputs[0]);
  const outDims = dimsOf(node.outputs[0]);
  const unknownChannels = (dims: readonly Dim[] | undefined): boolean => !dims || dims.length < 3 || typeof dims[1] !== 'number';
  if (unknownChannels(inDims) || unknownChannels(outDims)) return `TRANSPOSE_CONV needs static channels (input ${formatDims(node.inputs[0])}, output ${formatDims(node.outputs[0])})`;
  if (node.optionalAttr('output_shape', 'ints')) return `TRANSPOSE_CONV with output_shape needs static spatial dims (input ${formatDims(node.inputs[0])}, output ${formatDims(node.outputs[0])})`;
  const spatial = inDims!.length - 2;
  const ones = new Array<number>(spatial).fill(1);
  const strides = node.optionalAttr('strides', 'ints') ?? ones;
  const dilations = node.optionalAttr('dilations', 'ints') ?? ones;
  const outputPadding = node.optionalAttr('output_padding', 'ints') ?? new Array<number>(spatial).fill(0);
  const autoPad = node.optionalAttr('auto_pad', 'string') ?? 'NOTSET';
  const pads = node.optionalAttr('pads', 'ints') ?? new Array<number>(2 * spatial).fill(0);
  const kernel = weight.shape.slice(2).map((k, i) => (k - 1) * dilations[i]! + 1);
  const extra = kernel.map((k, i) => k + outputPadding[i]! - strides[i]!);
  let begins: number[];
  let endPads: number[];
  if (autoPad === 'NOTSET' || autoPad === 'VALID') {
    begins = autoPad === 'VALID' ? new Array<number>(spatial).fill(0) : pads.slice(0, spatial);
    endPads = autoPad === 'VALID' ? new Array<number>(spatial).fill(0) : pads.slice(spatial);
  } else {
    // SAME: the output is in·stride, the full one in·stride + extra; the difference is split as ONNX splits it.
    if (extra.some((e) => e < 0)) return `auto_pad ${autoPad} with a kernel smaller than the stride makes an output larger than the transposed convolution's`;
    begins = extra.map((total) => (autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2)));
    endPads = extra.map((total, i) => total - begins[i]!);
  }
  if ([...begins, ...endPads].some((p) => p < 0)) return 'negative pads are not supported';
  return { kernel, extra, begins, endPads };
}

function plan(node: Node): TransposePlan | string {
  const weight = constantOf(node.inputs[1])!;
  // The batch may be symbolic (a dynamic-batch export): TRANSPOSE_CONV then reads it from the input at run time.
  const inDims = spatialDims(node.inputs[0]);
  const outDims = spatialDims(node.outputs[0]);
  if (!inDims || !outDims) return `TRANSPOSE_CONV needs static spatial dims (input ${formatDims(node.inputs[0])}, output ${formatDims(node.outputs[0])})`;
  const spatial = inDims.length;
  const ones = new Array<number>(spatial).fill(1);
  const strides = node.optionalAttr('strides', 'ints') ?? ones;
  const dilations = node.optionalAttr('dilations', 'ints') ?? ones;
  const outputPadding = node.optionalAttr('output_padding', 'ints') ?? new Array<number>(spatial).fill(0);
  const autoPad = node.optionalAttr('auto_pad', 'string') ?? 'NOTSET';
  const pads = node.optionalAttr('pads', 'ints');
  const kernel = weight.shape.slice(2).map((k, i) => (k - 1) * dilations[i]! + 1);
  const full = inDims.map((size, i) => strides[i]! * (size - 1) + kernel[i]! + outputPadding[i]!);
  const begins = full.map((size, i) => {
    const total = size - outDims[i]!;
    if (!node.optionalAttr('output_shape', 'ints') && autoPad === 'NOTSET') return pads?.[i] ?? 0;
    return autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2);
  });
  if (begins.some((b, i) => b < 0 || b + outDims[i]! > full[i]!)) return `the output [${outDims.join(',')}] does not fit inside the transposed convolution's [${full.join(',')}] at pads [${begins.join(',')}]`;
  return { kernel, full, begins, out: outDims };
}

/** The kernel with dilation − 1 zeros between taps along each spatial axis ([I, O, kH, kW]). */
function dilatedKernel(weight: Tensor, dilations: readonly number[], kernel: readonly number[]): Tensor {
  if (dilations.every((d) => d === 1)) return weight;
  const [inputs, outputs, kh, kw] = weight.shape as [number, number, number, number];
  const source = weight.toNumbers();
  const out = new Float32Array(inputs * outputs * kernel[0]! * kernel[1]!);
  for (let io = 0; io < inputs * outputs; io++) {
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) out[(io * kernel[0]! + y * dilations[0]!) * kernel[1]! + x * dilations[1]!] = source[(io * kh + y) * kw + x]!;
    }
  }
  return Tensor.fromValues('float32', [inputs, outputs, kernel[0]!, kernel[1]!], out);
}

/** The 2-D rule for spatial dims known at run time: TRANSPOSE_CONV to Shape(x)·[1, s, s, 0] + [0, extra, extra, C], then the crop. */
function lowerRunTime(node: Node, context: LoweringContext, layout: RunTimePlan): void {
  const emit = new TfliteEmitter(node, context);
  const dilations = node.optionalAttr('dilations', 'ints') ?? [1, 1];
  const weight = loaded(dilatedKernel(constantOf(node.inputs[1])!, dilations, layout.kernel));
  const group = node.optionalAttr('group', 'int') ?? 1;
  const strides = node.optionalAttr('strides', 'ints') ?? [1, 1];
  const outType = channelsLastType(node);
  const outDims = (outType as { shape: readonly Dim[] }).shape;
  const channels = outDims[3] as number;
  const x = toChannelsLast(emit, node.input(0));
  const inDims = dimsOf(x)!;
  const fullType = (c: number): ReturnType<typeof typeWithShape> => typeWithShape(outType, [outDims[0]!, null, null, c]);
  // Shape arithmetic as canonical ops, lowered later: the transpose sinking turns Shape(Transpose(a)) into a Gather of
  // a's shape, so the NCHW→NHWC transpose of the input keeps no extra reader.
  const at = emit.at;
  const int64 = tensorType('int64', [4]);
  const i64 = (values: number[], name: string): Value => emit.constant(Tensor.fromValues('int64', [4], values.map((v) => BigInt(v))), name);
  const shape = at.op1('onnx.Shape', [x], {}, { types: [int64], name: `${node.name}_input_shape` });
  const stretched = at.op1('onnx.Mul', [shape, i64([1, strides[0]!, strides[1]!, 0], 'output_shape_scale')], {}, { types: [int64], name: `${node.name}_stretched` });
  const fullShape = (c: number, name: string): Value =>
    at.op1('onnx.Cast', [at.op1('onnx.Add', [stretched, i64([0, layout.extra[0]!, layout.extra[1]!, c], name)], {}, { types: [int64], name: `${node.name}_${name}` })], { to: attrs.int(6) }, { types: [tensorType('int32', [4])], name: `${node.name}_${name}_int32` });
  const bias = constantOf(node.inputs[2]);
  const options = { padding: 'VALID', stride_h: strides[0]!, stride_w: strides[1]!, fused_activation_function: 'NONE' };
  let y: Value;
  if (group === 1) {
    y = emit.op1('TRANSPOSE_CONV', [fullShape(channels, 'output_shape_add'), emit.constant(transposeTensor(weight, [1, 2, 3, 0]), 'filter'), x, bias ? emit.constant(bias, 'bias') : null], options, fullType(channels));
  } else {
    const inPerGroup = weight.shape[0]! / group;
    const outPerGroup = weight.shape[1]!;
    const parts = emit.op('SPLIT', [emit.int32([3], [], 'split_axis'), x], { num_splits: group }, new Array(group).fill(typeWithShape(x.type, [inDims[0]!, inDims[1]!, inDims[2]!, inPerGroup]))).outputs;
    const partShape = fullShape(outPerGroup, 'output_shape_add');
    const biases = bias && loaded(bias);
    const convs = parts.map((part, g) => {
      const filter = transposeTensor(leadingRows(weight, g * inPerGroup, (g + 1) * inPerGroup), [1, 2, 3, 0]);
      const groupBias = biases ? emit.constant(leadingRows(biases, g * outPerGroup, (g + 1) * outPerGroup), `bias_g${g}`) : null;
      return emit.op1('TRANSPOSE_CONV', [partShape, emit.constant(filter, `filter_g${g}`), part!, groupBias], options, fullType(outPerGroup));
    });
    y = emit.op1('CONCATENATION', convs, { axis: 3, fused_activation_function: 'NONE' }, fullType(channels));
  }
  if ([...layout.begins, ...layout.endPads].some((p) => p !== 0)) {
    // Ends count back from each axis's end (negative); an axis with nothing left off at its end, and N and C, run to it (end_mask).
    const end = [0, -layout.endPads[0]!, -layout.endPads[1]!, 0];
    const endMask = 1 | (layout.endPads[0] === 0 ? 2 : 0) | (layout.endPads[1] === 0 ? 4 : 0) | 8;
    const sliceOptions = { begin_mask: 0, end_mask: endMask, ellipsis_mask: 0, new_axis_mask: 0, shrink_axis_mask: 0, offset: 0 };
    y = emit.op1('STRIDED_SLICE', [y, emit.int32([0, layout.begins[0]!, layout.begins[1]!, 0], [4], 'crop_begin'), emit.int32(end, [4], 'crop_end'), emit.int32([1, 1, 1, 1], [4], 'crop_strides')], sliceOptions, outType);
  }
  replaceNode(node, [toChannelsFirst(emit, y)]);
}

const convTranspose: LoweringRule = {
  ops: ['onnx.ConvTranspose'],
  stage: 'layout',
  targets: ['TRANSPOSE_CONV', 'STRIDED_SLICE', 'SPLIT', 'CONCATENATION', 'SHAPE', 'MUL', 'ADD', 'CAST'],
  check(node) {
    const window = checkWindow2d(node, 'transposed convolution');
    if (window) return window;
    const weight = constantOf(node.inputs[1]);
    if (!weight) return 'the weights must be a constant';
    // int8 weights with quant<> parameters: the int8 lowering (legalize/quantized/int8-ops.ts) checked them; finish-int8 makes the int32 bias.
    if (weight.dtype !== 'float32' && !(weight.dtype === 'int8' && weight.quant)) return `weights of dtype ${weight.dtype} are not supported (float32)`;
    if (node.inputs[2] && !constantOf(node.inputs[2])) return 'the bias must be a constant';
    const group = node.optionalAttr('group', 'int') ?? 1;
    if (group < 1 || weight.shape[0]! % group !== 0) return `group ${group} does not divide the ${weight.shape[0]} input channels`;
    if ((node.optionalAttr('output_padding', 'ints') ?? []).some((p) => p < 0)) return 'output_padding must not be negative';
    const layout = plan(node);
    if (typeof layout !== 'string') return undefined;
    const runTime = runTimePlan(node);
    return typeof runTime === 'string' ? `${layout}; with run-time spatial dims: ${runTime}` : undefined;
  },
  lower(node, context) {
    if (typeof plan(node) === 'string') {
      lowerRunTime(node, context, runTimePlan(node) as RunTimePlan);
      return;
    }
    const emit = new TfliteEmitter(node, context);
    const layout = plan(node) as TransposePlan;
    const dilations = node.optionalAttr('dilations', 'ints') ?? [1, 1];
    const weight = loaded(dilatedKernel(constantOf(node.inputs[1])!, dilations, layout.kernel));
    const group = node.optionalAttr('group', 'int') ?? 1;
    const strides = node.optionalAttr('strides', 'ints') ?? [1, 1];
    const outType = channelsLastType(node);
    const outDims = (outType as { shape: readonly (number | string | null)[] }).shape;
    const batch = outDims[0]!;
    const channels = outDims[3] as number;
    const fullType = typeWithShape(outType, [outDims[0]!, layout.full[0]!, layout.full[1]!, channels]);
    const x = toChannelsLast(emit, node.input(0));
    const bias = constantOf(node.inputs[2]);
    const options = { padding: 'VALID', stride_h: strides[0]!, stride_w: strides[1]!, fused_activation_function: 'NONE' };
    let y: Value;
    if (group === 1) {
      // ONNX [Cin, Cout, kH, kW] → TFLite [Cout, kH, kW, Cin]
      const shape = outputShapeOperand(emit, x, batch, [layout.full[0]!, layout.full[1]!, channels]);
      const filter = transposeTensor(weight, [1, 2, 3, 0]);
      y = emit.op1('TRANSPOSE_CONV', [shape, emit.constant(filter, 'filter'), x, bias ? emit.constant(bias, 'bias') : null], options, fullType);
    } else {
      const inPerGroup = weight.shape[0]! / group;
      const outPerGroup = weight.shape[1]!;
      const xDims = dimsOf(x)!;
      const parts = emit.op('SPLIT', [emit.int32([3], [], 'split_axis'), x], { num_splits: group }, new Array(group).fill(typeWithShape(x.type, [xDims[0]!, xDims[1]!, xDims[2]!, inPerGroup]))).outputs;
      const partType = typeWithShape(outType, [outDims[0]!, layout.full[0]!, layout.full[1]!, outPerGroup]);
      const shape = outputShapeOperand(emit, x, batch, [layout.full[0]!, layout.full[1]!, outPerGroup]);
      const biases = bias && loaded(bias);
      const convs = parts.map((part, g) => {
        const filter = transposeTensor(leadingRows(weight, g * inPerGroup, (g + 1) * inPerGroup), [1, 2, 3, 0]);
        const groupBias = biases ? emit.constant(leadingRows(biases, g * outPerGroup, (g + 1) * outPerGroup), `bias_g${g}`) : null;
        return emit.op1('TRANSPOSE_CONV', [shape, emit.constant(filter, `filter_g${g}`), part!, groupBias], options, partType);
      });
      y = emit.op1('CONCATENATION', convs, { axis: 3, fused_activation_function: 'NONE' }, fullType);
    }
    if (layout.begins.some((b) => b !== 0) || layout.out.some((o, i) => o !== layout.full[i])) {
      const begin = [0, layout.begins[0]!, layout.begins[1]!, 0];
      // A symbolic batch is kept whole by end_mask bit 0 (its end value is then ignored).
      const end = [typeof batch === 'number' ? batch : 0, layout.begins[0]! + layout.out[0]!, layout.begins[1]! + layout.out[1]!, channels];
      const sliceOptions = { begin_mask: 0, end_mask: typeof batch === 'number' ? 0 : 1, ellipsis_mask: 0, new_axis_mask: 0, shrink_axis_mask: 0, offset: 0 };
      y = emit.op1('STRIDED_SLICE', [y, emit.int32(begin, [4], 'crop_begin'), emit.int32(end, [4], 'crop_end'), emit.int32([1, 1, 1, 1], [4], 'crop_strides')], sliceOptions, outType);
    }
    replaceNode(node, [toChannelsFirst(emit, y)]);
  },
};

/** ConvTranspose 3-D (group 1, no dilation) → CONV_3D_TRANSPOSE (VALID, to the full output), ADD of the bias, STRIDED_SLICE crop. */
function checkVolume(node: Node): string | undefined {
  const weight = constantOf(node.inputs[1]);
  if (!weight || weight.dtype !== 'float32') return 'the weights of a 3-D ConvTranspose must be a float32 constant';
  if (node.inputs[2] && !constantOf(node.inputs[2])) return 'the bias must be a constant';
  if ((node.optionalAttr('group', 'int') ?? 1) !== 1) return 'grouped 3-D transposed convolutions are not supported';
  if ((node.optionalAttr('dilations', 'ints') ?? []).some((d) => d !== 1)) return 'dilated 3-D transposed convolutions are not supported';
  if (typeof dimsOf(node.inputs[0])?.[0] !== 'number') return 'a 3-D transposed convolution needs a static batch (give it with --input-shape)';
  const layout = plan(node);
  return typeof layout === 'string' ? layout : undefined;
}

function lowerVolume(node: Node, context: LoweringContext): void {
  const emit = new TfliteEmitter(node, context);
  const layout = plan(node) as TransposePlan;
  const weight = constantOf(node.inputs[1])!;
  const strides = node.optionalAttr('strides', 'ints') ?? [1, 1, 1];
  const outType = channelsLastType(node);
  const outDims = (outType as { shape: readonly number[] }).shape;
  const [batch, channels] = [outDims[0]!, outDims[4]!];
  const full = [batch, ...layout.full, channels];
  const options = { padding: 'VALID', stride_d: strides[0]!, stride_h: strides[1]!, stride_w: strides[2]!, dilation_d_factor: 1, dilation_h_factor: 1, dilation_w_factor: 1, fused_activation_function: 'NONE' };
  const bias = constantOf(node.inputs[2]);
  const operands = [emit.int32(full, [5], 'output_shape'), emit.constant(transposeTensor(weight, [2, 3, 4, 1, 0]), 'filter'), toChannelsLast(emit, node.input(0))];
  let y = emit.op1('CONV_3D_TRANSPOSE', operands, options, typeWithShape(outType, full));
  // TFLite 2.9 checks the bias length against the filter's input channels, so the bias is a separate ADD.
  if (bias) y = emit.op1('ADD', [y, emit.constant(bias, 'bias')], { fused_activation_function: 'NONE' }, y.type);
  if (layout.begins.some((b) => b !== 0) || layout.out.some((o, i) => o !== layout.full[i])) {
    const begin = [0, ...layout.begins, 0];
    const end = [batch, ...layout.begins.map((b, i) => b + layout.out[i]!), channels];
    const sliceOptions = { begin_mask: 0, end_mask: 0, ellipsis_mask: 0, new_axis_mask: 0, shrink_axis_mask: 0, offset: 0 };
    y = emit.op1('STRIDED_SLICE', [y, emit.int32(begin, [5], 'crop_begin'), emit.int32(end, [5], 'crop_end'), emit.int32([1, 1, 1, 1, 1], [5], 'crop_strides')], sliceOptions, outType);
  }
  replaceNode(node, [toChannelsFirst(emit, y)]);
}

/** 1-D attributes lifted to 2-D with a unit height (kernel/stride/dilation 1, no padding on it). */
function liftedAttributes(node: Node): Record<string, Attribute> {
  const lifted: Record<string, Attribute> = {};
  for (const [name, attribute] of node.attributes) {
    if (attribute.kind !== 'ints') lifted[name] = attribute;
    else if (name === 'kernel_shape' || name === 'strides' || name === 'dilations') lifted[name] = attrs.ints([1, ...attribute.value]);
    else if (name === 'output_padding') lifted[name] = attrs.ints([0, ...attribute.value]);
    else if (name === 'output_shape') lifted[name] = attrs.ints([1, ...attribute.value]);
    else if (name === 'pads') lifted[name] = attrs.ints([0, attribute.value[0]!, 0, attribute.value[1]!]);
    else lifted[name] = attribute;
  }
  return lifted;
}

const withUnit = <T>(dims: readonly T[], unit: T): T[] => [...dims.slice(0, 2), unit, ...dims.slice(2)];

/** Builds the 2-D form of a 1-D ConvTranspose on `x` (`[N, C, 1, L]`) with the weight lifted to `[I, O, 1, k]`. */
function buildLifted(at: Builder | GraphBuilder, node: Node, x: Value, add: (tensor: Tensor, name: string) => Value): Node {
  const weight = constantOf(node.inputs[1])!;
  const operands = [x, add(weight.reshape(withUnit(weight.shape, 1)), 'weight_2d'), node.inputs[2] ? add(constantOf(node.inputs[2])!, 'bias') : null];
  const outType = typeWithShape(node.output(0).type, withUnit(dimsOf(node.outputs[0])!, 1 as Dim));
  if (at instanceof Builder) return at.create(node.op, operands, liftedAttributes(node), { types: [outType], name: node.name });
  return at.op(node.op, operands, liftedAttributes(node), { types: [outType], name: node.name })[0]!.producer!;
}

/** ConvTranspose 1-D (`[N, C, L]`) as the 2-D rule on `[N, C, 1, L]` between Unsqueeze/Squeeze (RESHAPE), as 1-D Conv is. */
const convTranspose1d: LoweringRule = {
  ops: convTranspose.ops,
  stage: 'layout',
  targets: [...convTranspose.targets, 'RESHAPE', 'CONV_3D_TRANSPOSE', 'ADD'],
  check(node, context) {
    const dims = dimsOf(node.inputs[0]);
    if (dims?.length === 5) return checkVolume(node);
    if (dims?.length !== 3) return convTranspose.check(node, context);
    if (!constantOf(node.inputs[1]) || (node.inputs[2] && !constantOf(node.inputs[2]))) return 'the weights and bias of a 1-D transposed convolution must be constants';
    if (!dimsOf(node.outputs[0])) return 'needs the output shape (run shape inference first)';
    const scratch = new GraphBuilder();
    const x = scratch.input('x', typeWithShape(node.input(0).type, withUnit(dims, 1 as Dim)));
    return convTranspose.check(buildLifted(scratch, node, x, (tensor, name) => scratch.constant(tensor, name)), context);
  },
  lower(node, context) {
    const dims = dimsOf(node.inputs[0]);
    if (dims?.length === 5) return lowerVolume(node, context);
    if (dims?.length !== 3) return convTranspose.lower(node, context);
    const at = Builder.before(node, { registry: context.registry });
    const axes = at.constant(Tensor.fromValues('int64', [1], [2n]), `${node.name}_unit_axis`);
    const x = at.op1('onnx.Unsqueeze', [node.input(0), axes], {}, { types: [typeWithShape(node.input(0).type, withUnit(dims, 1 as Dim))] });
    const lifted = buildLifted(at, node, x, (tensor, name) => at.constant(tensor, `${node.name}_${name}`));
    const y = Builder.after(lifted, { registry: context.registry }).op1('onnx.Squeeze', [lifted.output(0), axes], {}, { types: [node.output(0).type] });
    convTranspose.lower(lifted, context);
    replaceNode(node, [y]);
  },
};

export const convTransposeRules: readonly LoweringRule[] = [convTranspose1d];
