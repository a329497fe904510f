import { attrs, Builder, dequantizeLinear, Tensor, type Model, type Node, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { axisShufflesAsGather, blockRearrangementAsDepthSpace, cancelDepthSpacePairs } from '@modelpass/transforms';
import { constantOf, numbersOf } from './constant-values.js';
import { dequantizeTensor } from './quantized/quant-values.js';
import { dimsOf } from './lowering-tools.js';
import { attentionHeadsWithoutTranspose } from './rules/attention-heads.js';
import { packedQkvAsHeadSplits } from './rules/attention-packed-qkv.js';
import { int8TableGather } from './rules/int8-table-gather.js';
import { contribOpsAsCanonical } from './rules/contrib-forms.js';
import { torchGroupNormAsGroupNormalization } from './rules/group-norm.js';
import { expandStaticControlFlow } from './rules/control-flow.js';
import { controlFlowAsRegions } from './rules/control-flow-regions.js';
import { batchNormAsScaleShift } from './rules/normalization.js';
import { convIntegerAsFloat } from './rules/quantized-forms.js';
import { foldStaticSequences } from './rules/sequences.js';

/** A Reduce* node over `axes` in the spelling of the model's opset (attribute before 18, input from 18; ReduceSum input from 13). */
function reduceOver(at: Builder, op: string, x: Value, axes: number[], keepdims: number, opset: number, type: Value['type']): Value {
  const asInput = opset >= 18 || (op === 'onnx.ReduceSum' && opset >= 13);
  if (!asInput) return at.op1(op, [x], { axes: attrs.ints(axes), keepdims: attrs.int(keepdims) }, { types: [type] });
  const axesValue = at.constant(Tensor.fromValues('int64', [axes.length], axes), 'axes');
  return at.op1(op, [x, axesValue], { keepdims: attrs.int(keepdims) }, { types: [type] });
}

function replace(node: Node, value: Value): void {
  node.output(0).replaceAllUsesWith(value);
  if (!node.output(0).hasUses) node.erase();
}

/** GlobalAveragePool/GlobalMaxPool → ReduceMean/ReduceMax over the spatial axes (keepdims): layout-agnostic, so transposes pass through. */
function globalPoolAsReduce(node: Node, opset: number): boolean {
  const rank = dimsOf(node.inputs[0])?.length;
  if (rank === undefined || rank < 3) return false;
  const axes = Array.from({ length: rank - 2 }, (_, i) => i + 2);
  const op = node.op === 'onnx.GlobalAveragePool' ? 'onnx.ReduceMean' : 'onnx.ReduceMax';
  replace(node, reduceOver(Builder.before(node), op, node.input(0), axes, 1, opset, node.output(0).type));
  return true;
}

/** BatchNormalization not folded into a Conv: Mul and Add by per-channel constants shaped [C, 1, …]. */
function batchNormAsMulAdd(node: Node): boolean {
  const rank = dimsOf(node.inputs[0])?.length;
  const parts = batchNormAsScaleShift(node);
  // Rank > 4: TFLite 2.9's ADD/MUL broadcast at most 4-D; the batch-norm lowering rule reshapes first.
  if (rank === undefined || rank < 2 || rank > 4 || !parts || node.outputs.slice(1).some((v) => v?.hasUses)) return false;
  const shape = [parts.scale.size, ...new Array<number>(rank - 2).fill(1)];
  const at = Builder.before(node);
  const type = node.output(0).type;
  const scaled = at.op1('onnx.Mul', [node.input(0), at.constant(parts.scale.reshape(shape), `${node.name}_scale`)], {}, { types: [type] });
  replace(node, at.op1('onnx.Add', [scaled, at.constant(parts.shift.reshape(shape), `${node.name}_shift`)], {}, { types: [type] }));
  return true;
}

/** A constant scalar operand's real value: a quantized constant (quant<> codes after fold-qdq) is read dequantized. */
function scalarOf(value: Value | null | undefined): number | undefined {
  const tensor = constantOf(value);
  if (tensor?.quant && tensor.size === 1) return dequantizeTensor(tensor).toNumbers()[0];
  const values = numbersOf(value);
  return values?.length === 1 ? values[0] : undefined;
}

function near(value: number | undefined, expected: number): boolean {
  return value !== undefined && Math.abs(value - expected) <= 1e-4 * Math.abs(expected);
}

/** The other input of a binary node, given one of them. */
function otherInput(node: Node, value: Value): Value | null | undefined {
  if (node.inputs[0] === value) return node.inputs[1];
  if (node.inputs[1] === value) return node.inputs[0];
  return undefined;
}

/**
 * GELU as torch exports it, `x * 0.5 * (1 + erf(x / √2))` in either order of the multiplications →
 * `onnx.Gelu`. Matches at the Erf node, on the constants' reals (quantized constants included). In a quantized
 * model (prepare-quantized.ts, before its checks) x and the output keep their quant<> types: GELU int8.
 */
export function erfGelu(erf: Node): boolean {
  const scaledIn = erf.inputs[0]?.producer;
  if (!scaledIn || erf.output(0).useCount !== 1) return false;
  let x: Value | undefined;
  if (scaledIn.op === 'onnx.Div' && near(scalarOf(scaledIn.inputs[1]), Math.SQRT2)) x = scaledIn.input(0);
  else if (scaledIn.op === 'onnx.Mul' && near(scalarOf(scaledIn.inputs[1]), Math.SQRT1_2)) x = scaledIn.input(0);
  if (!x) return false;
  const plusOne = erf.output(0).users[0];
  if (!plusOne || plusOne.op !== 'onnx.Add' || !near(scalarOf(otherInput(plusOne, erf.output(0))), 1) || plusOne.output(0).useCount !== 1) return false;
  const first = plusOne.output(0).users[0]!;
  if (first.op !== 'onnx.Mul') return false;
  const firstOther = otherInput(first, plusOne.output(0));
  let last: Node;
  if (firstOther === x) {
    // (x * (1 + erf)) * 0.5
    const half = first.output(0).useCount === 1 ? first.output(0).users[0] : undefined;
    if (!half || half.op !== 'onnx.Mul' || !near(scalarOf(otherInput(half, first.output(0))), 0.5)) return false;
    last = half;
  } else {
    // (x * 0.5) * (1 + erf)
    const halfNode = firstOther?.producer;
    if (!halfNode || halfNode.op !== 'onnx.Mul' || !near(scalarOf(otherInput(halfNode, x)), 0.5)) return false;
    last = first;
  }
  const gelu = Builder.before(last).op1('onnx.Gelu', [x], {}, { types: [last.output(0).type] });
  replace(last, gelu);
  return true;
}

/** `x * HardSigmoid(x, 1/6, 1/2)` → `HardSwish(x)` (torch exports hardswish this way before opset 14). */
function hardSwish(mul: Node): boolean {
  for (const index of [0, 1]) {
    const gate = mul.inputs[index]?.producer;
    const x = mul.inputs[1 - index];
    if (!gate || gate.op !== 'onnx.HardSigmoid' || gate.inputs[0] !== x || !x) continue;
    if (!near(gate.optionalAttr('alpha', 'float') ?? 0.2, 1 / 6) || !near(gate.optionalAttr('beta', 'float') ?? 0.5, 0.5)) continue;
    replace(mul, Builder.before(mul).op1('onnx.HardSwish', [x], {}, { types: [mul.output(0).type] }));
    return true;
  }
  return false;
}

/** The tensor an `onnx.Constant` node holds (value, value_float(s), value_int(s)), or undefined. */
function constantNodeTensor(node: Node): Tensor | undefined {
  const get = (name: string) => node.getAttribute(name);
  const value = get('value');
  if (value?.kind === 'tensor') return value.value;
  const float = get('value_float');
  if (float?.kind === 'float') return Tensor.scalar('float32', float.value);
  const int = get('value_int');
  if (int?.kind === 'int') return Tensor.scalar('int64', BigInt(int.value));
  const floats = get('value_floats');
  if (floats?.kind === 'floats') return Tensor.fromValues('float32', [floats.value.length], [...floats.value]);
  const ints = get('value_ints');
  if (ints?.kind === 'ints') return Tensor.fromValues('int64', [ints.value.length], ints.value.map((v) => BigInt(v)));
  return undefined;
}

/** `onnx.Constant` nodes → initializers (TFLite constants are buffers, not ops). */
function constantNodeAsInitializer(node: Node): boolean {
  const tensor = constantNodeTensor(node);
  const output = node.outputs[0];
  if (!tensor || !output || output.isGraphOutput) return false;
  const value = node.graph!.addConstant(node.graph!.uniqueName(`${output.name}_value`), tensor);
  output.replaceAllUsesWith(value);
  node.erase();
  return true;
}

/**
 * Every `onnx.Constant` node of the main graph → an initializer. Cheap, and done before the first shape
 * inference so that inference and the folding passes see constants, not nodes to evaluate (a torch
 * export has one per literal: 68 of fashion-transformer's 230 nodes). Returns how many.
 */
export function constantNodesAsInitializers(model: Model): number {
  let count = 0;
  // The search is ir's node walk (`nodesOf`, safe against erasing the node it returned), shared with every pass that
  // walks: this loop runs once per Constant only. As a walk of its own over every node, ten conversions in a process
  // made it hot enough for V8 to optimize, with constantNodeAsInitializer and its IR calls inlined — a compile that
  // cost more than the walk it sped up (about 5 M instructions a fashion-transformer conversion; --turbo-filter).
  for (const node of model.graph.nodesOf('onnx.Constant')) if (constantNodeAsInitializer(node)) count++;
  return count;
}

/** Above this, a ConstantOfShape stays an op (and is refused by name) rather than growing the file. */
const MAX_FILLED_CONSTANT_BYTES = 16 * 1024 * 1024;

/**
 * ConstantOfShape of a constant shape (tf2onnx's zero padding of channels, BlazeFace) → the filled
 * constant, so layout conversion moves it offline like any weight.
 */
function constantOfShapeAsInitializer(node: Node): boolean {
  const dims = numbersOf(node.inputs[0]);
  const output = node.outputs[0];
  if (!dims || !output || output.isGraphOutput || dims.some((d) => !Number.isInteger(d) || d < 0)) return false;
  const given = node.getAttribute('value');
  const element = given?.kind === 'tensor' ? given.value : Tensor.fromValues('float32', [1], [0]);
  if (element.dtype === 'string' || element.size !== 1) return false;
  const elementBytes = element.bytes();
  const count = dims.reduce((n, d) => n * d, 1);
  if (elementBytes.byteLength === 0 || count * elementBytes.byteLength > MAX_FILLED_CONSTANT_BYTES) return false;
  const bytes = new Uint8Array(count * elementBytes.byteLength);
  for (let offset = 0; offset < bytes.byteLength; offset += elementBytes.byteLength) bytes.set(elementBytes, offset);
  const value = node.graph!.addConstant(node.graph!.uniqueName(`${output.name}_filled`), Tensor.fromBytes(element.dtype, dims, bytes));
  output.replaceAllUsesWith(value);
  node.erase();
  return true;
}

/**
 * DequantizeLinear of constant integers (weight-only quantized models: int8 weights behind a
 * DequantizeLinear) → the float32 constant it computes, bit-exact with ONNX Runtime. The TFLite file
 * then holds float weights; native quantized tensors are not written yet.
 */
function constantDequantize(node: Node): boolean {
  const [q, scale, zeroPoint] = [0, 1, 2].map((i) => (node.inputs[i] ? constantOf(node.inputs[i]) : undefined));
  const output = node.outputs[0];
  if (!q || !scale || (node.inputs[2] && !zeroPoint) || !output || output.isGraphOutput) return false;
  if ((node.optionalAttr('block_size', 'int') ?? 0) !== 0) return false;
  const axis = node.optionalAttr('axis', 'int');
  const floats = dequantizeLinear(q, scale, zeroPoint, scale.rank === 0 || scale.size === 1 ? {} : { axis: axis ?? 1 });
  const value = node.graph!.addConstant(node.graph!.uniqueName(`${output.name}_dequantized`), floats);
  output.replaceAllUsesWith(value);
  node.erase();
  return true;
}

/** Constants with a `quant<>` type (fold-qdq's spelling of int8 weights) → float32 constants of the reals they stand for. */
function dequantizeQuantTypedConstants(model: Model): number {
  let count = 0;
  for (const constant of [...model.graph.constants]) {
    const tensor = constant.constant;
    const quant = tensor?.quant;
    if (!tensor || !quant || !constant.hasUses || constant.isGraphInput) continue;
    // Read by an int8 op (its output is quant<> too): the int8 lowering keeps the integers.
    if (constant.users.some((user) => user.outputs.some((output) => output?.type.kind === 'tensor' && output.type.quant))) continue;
    const scale = Tensor.fromValues('float32', [quant.scale.length], [...quant.scale]);
    const zeroPoint = Tensor.fromValues(tensor.dtype, [quant.zeroPoint.length], [...quant.zeroPoint]);
    const plain = tensor.withQuant(undefined);
    const floats = quant.axis === undefined ? dequantizeLinear(plain, scale.reshape([]), zeroPoint.reshape([])) : dequantizeLinear(plain, scale, zeroPoint, { axis: quant.axis });
    const value = model.graph.addConstant(model.graph.uniqueName(`${constant.name}_dequantized`), floats);
    constant.replaceAllUsesWith(value);
    count++;
  }
  return count;
}

/**
 * If/Loop/Scan, sequences and optionals known at conversion time, and com.microsoft FusedConv/GroupNorm,
 * become plain canonical nodes (`rules/control-flow.ts`, `rules/sequences.ts`, `rules/contrib-forms.ts`),
 * typed by a shape-inference round; the rest is refused per node by their rules. Returns how many nodes were resolved.
 */
export function resolveStaticStructure(model: Model): number {
  const resolved = expandStaticControlFlow(model) + foldStaticSequences(model) + contribOpsAsCanonical(model);
  if (resolved > 0) inferShapes(model, { mode: 'refresh' });
  return resolved;
}

/**
 * Canonical rewrites before layout conversion: the ops TFLite has no builtin for but whose meaning
 * other canonical ops say in a layout-agnostic way, the fusions torch's exports spell out, and
 * channel shuffles (Reshape → Transpose → Reshape) as one Gather along the channel axis. Returns how many nodes were rewritten.
 */
export function prepareCanonicalForTflite(
  model: Model,
  options: {
    readonly channelShuffle?: 'gather' | 'transpose';
    /**
     * What the caller has done to this graph already, with nothing since that could give those steps more to do
     * (legalize-tflite: channel shuffles matched right after shape inference, static structure resolved to
     * nothing): skipped here instead of walking the graph again. Regions are always prepared in full.
     */
    readonly done?: { readonly axisShuffles?: boolean; readonly staticStructure?: boolean };
  } = {},
): number {
  const opset = model.opset('onnx') ?? 17;
  const shuffles = options.channelShuffle === 'transpose' || options.done?.axisShuffles ? 0 : axisShufflesAsGather(model.graph);
  let rewrites = (options.done?.staticStructure ? 0 : resolveStaticStructure(model)) + dequantizeQuantTypedConstants(model) + shuffles;
  for (const node of model.graph.nodeList()) {
    if (!node.graph) continue;
    let changed = false;
    if (node.op === 'onnx.Constant') changed = constantNodeAsInitializer(node);
    // An int8 embedding table stays int8 (GATHER of the codes + DEQUANTIZE of the rows), other constants become float32.
    else if (node.op === 'onnx.DequantizeLinear') changed = int8TableGather(node) || constantDequantize(node);
    else if (node.op === 'onnx.ConstantOfShape') changed = constantOfShapeAsInitializer(node);
    else if (node.op === 'onnx.GlobalAveragePool' || node.op === 'onnx.GlobalMaxPool') changed = globalPoolAsReduce(node, opset);
    else if (node.op === 'onnx.BatchNormalization') changed = batchNormAsMulAdd(node);
    else if (node.op === 'onnx.Erf') changed = erfGelu(node);
    else if (node.op === 'onnx.Mul') changed = hardSwish(node);
    else if (node.op === 'onnx.ConvInteger') changed = convIntegerAsFloat(node);
    else if (node.op === 'onnx.InstanceNormalization') changed = torchGroupNormAsGroupNormalization(node);
    else if (node.op === 'onnx.Transpose') changed = packedQkvAsHeadSplits(node, opset) || attentionHeadsWithoutTranspose(node, opset);
    else if (node.op === 'onnx.DepthToSpace' || node.op === 'onnx.SpaceToDepth') changed = cancelDepthSpacePairs(node);
    // A pixel shuffle and its inverse cancel before either becomes DEPTH_TO_SPACE / SPACE_TO_DEPTH (the pair's dead nodes go below).
    else if (node.op === 'onnx.Reshape') changed = cancelDepthSpacePairs(node) || blockRearrangementAsDepthSpace(node);
    if (changed) rewrites++;
  }
  // If/Loop left (run-time conditions, trip counts): TFLite IF/WHILE whose regions are prepared like this graph.
  const regionOptions = { channelShuffle: options.channelShuffle };
  rewrites += controlFlowAsRegions(model, (region) => prepareCanonicalForTflite(region, regionOptions));
  // Nodes the rewrites left without readers (the Div/Add/Mul of a GELU, a HardSigmoid).
  for (let node = model.graph.lastNode; node; ) {
    const previous = node.prev;
    if (node.outputs.every((v) => !v || (!v.hasUses && !v.isGraphOutput))) node.erase();
    node = previous;
  }
  return rewrites;
}

