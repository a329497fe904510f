import { attrs, Builder, isTensorType, sliceAlongAxis, Tensor, tensorType, type Attribute, type Graph, type Node, type QuantParams, type TensorType, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import { quantOf } from './quant-values.js';

/**
 * A grouped (not depthwise) int8 Conv (RegNet, ResNeXt, ShuffleNet v1) → Split of its input channels
 * → one int8 Conv per group → Concat, on the canonical ops before the int8 check, so every piece is an
 * op with an int8 lowering (SPLIT, CONV_2D, CONCATENATION) instead of a float one between DEQUANTIZE and
 * QUANTIZE. Each group's weights (and bias) are the rows of its output channels with their own
 * per-channel scales, so every group computes the integers the whole Conv would: the split and the
 * concatenation copy integers (the groups' outputs take the Conv's output parameters).
 */

/** Rows [start, end) along axis 0 of a constant, with the per-channel parameters of those rows. */
function rows(tensor: Tensor, start: number, end: number): Tensor {
  const quant = tensor.quant;
  const sliced = sliceAlongAxis(tensor.withQuant(undefined), 0, start, end);
  if (!quant) return sliced;
  const kept: QuantParams =
    quant.axis === 0 ? { ...quant, scale: quant.scale.slice(start, end), zeroPoint: quant.zeroPoint.slice(start, end) } : quant;
  return sliced.withQuant(kept);
}

function withChannels(type: TensorType, channels: number): TensorType {
  const shape = type.shape ? type.shape.map((d, i) => (i === 1 ? channels : d)) : null;
  return tensorType(type.dtype, shape, type.quant);
}

/** True for a grouped Conv on quant<> values with quant<> constant weights. */
function isGroupedInt8Conv(node: Node): boolean {
  const group = node.optionalAttr('group', 'int') ?? 1;
  const weight = constantOf(node.inputs[1]);
  if (group <= 1 || !weight?.quant || weight.rank < 3 || weight.shape[1] === 1) return false;
  if (!quantOf(node.inputs[0]) || !quantOf(node.outputs[0]) || node.outputs[0]!.isGraphOutput) return false;
  if (weight.shape[0]! % group !== 0 || !isTensorType(node.inputs[0]!.type) || !isTensorType(node.outputs[0]!.type)) return false;
  return !node.inputs[2] || constantOf(node.inputs[2]) !== undefined;
}

/**
 * Explicit pads (`pads`, no auto_pad) → one Pad of the whole input before the Split (zeros: the int8 PAD
 * pads with the zero point, real 0, as the Conv does), instead of a PAD per group after it.
 */
function padOnce(node: Node, at: Builder, x: Value): { input: Value; pads?: readonly number[] } {
  const pads = node.optionalAttr('pads', 'ints');
  const autoPad = node.optionalAttr('auto_pad', 'string') ?? 'NOTSET';
  const type = x.type as TensorType;
  if (!pads || autoPad !== 'NOTSET' || pads.every((p) => p === 0) || !type.shape) return { input: x };
  const spatial = pads.length / 2;
  const full = [0, 0, ...pads.slice(0, spatial), 0, 0, ...pads.slice(spatial)];
  const shape = type.shape.map((d, i) => (i >= 2 && typeof d === 'number' ? d + pads[i - 2]! + pads[i - 2 + spatial]! : d));
  const amounts = at.constant(Tensor.fromValues('int64', [full.length], full.map((p) => BigInt(p))), `${node.name}_pads`);
  return { input: at.op1('onnx.Pad', [x, amounts], {}, { types: [tensorType(type.dtype, shape, type.quant)], name: `${node.name}_pad` }), pads };
}

function splitConv(node: Node): void {
  const graph = node.graph!;
  const group = node.optionalAttr('group', 'int')!;
  const weight = constantOf(node.inputs[1])!;
  const bias = node.inputs[2] ? constantOf(node.inputs[2]) : undefined;
  const [outChannels, inPerGroup] = weight.shape as [number, number];
  const outPerGroup = outChannels / group;
  const x = node.input(0);
  const y = node.output(0);
  const at = Builder.before(node);
  const { input: padded, pads } = padOnce(node, at, x);
  const sizes = at.constant(Tensor.fromValues('int64', [group], new Array<bigint>(group).fill(BigInt(inPerGroup))), `${node.name}_group_sizes`);
  const partType = withChannels(padded.type as TensorType, inPerGroup);
  const parts = at.create('onnx.Split', [padded, sizes], { axis: attrs.int(1) }, { types: new Array(group).fill(partType), name: `${node.name}_groups` }).outputs;
  const attributes: Record<string, Attribute> = {};
  for (const name of ['auto_pad', 'dilations', 'kernel_shape', 'pads', 'strides']) {
    const attribute = node.getAttribute(name);
    if (attribute) attributes[name] = attribute;
  }
  if (pads) attributes['pads'] = attrs.ints(new Array<number>(pads.length).fill(0)); // padded once, before the Split
  const outType = withChannels(y.type as TensorType, outPerGroup);
  const convs: Value[] = parts.map((part, g) => {
    const filter = graph.addConstant(graph.uniqueName(`${node.name}_filter_g${g}`), rows(weight, g * outPerGroup, (g + 1) * outPerGroup));
    const groupBias = bias ? graph.addConstant(graph.uniqueName(`${node.name}_bias_g${g}`), rows(bias, g * outPerGroup, (g + 1) * outPerGroup)) : null;
    return at.op1('onnx.Conv', [part!, filter, ...(groupBias ? [groupBias] : [])], attributes, { types: [outType], name: `${node.name}_g${g}` });
  });
  const joined = at.op1('onnx.Concat', convs, { axis: attrs.int(1) }, { types: [y.type], name: `${node.name}_concat` });
  y.replaceAllUsesWith(joined);
  node.erase();
}

/** Splits every grouped int8 Conv of the main graph into one Conv per group; returns how many. */
export function splitGroupedInt8Convs(graph: Graph): number {
  let count = 0;
  for (const node of graph.nodeList()) {
    if (node.op !== 'onnx.Conv' || !isGroupedInt8Conv(node)) continue;
    splitConv(node);
    count++;
  }
  return count;
}
