/**
 * Channel rules of the shape ops: Concat (offset ranges), Split and Slice on channels, Reshape /
 * Flatten / Squeeze / Unsqueeze (followed through static shapes: merging channels with the dims
 * after them gives each channel a block of features; splitting a channel dimension — a channel
 * shuffle's first Reshape — is refused), Transpose, reductions and Pad.
 */
import { attrs, Builder, Tensor, type Node, type Value } from '@modelpass/ir';
import { keptBefore, keptIndices, layoutLength, scaleBlocks, subLayout, fullPiece, type ChannelLayout } from './channel-layout.js';
import type { ChannelAnalysis } from './dependency-groups.js';
import { constantOf, describeNode, refuseUnknownOp, shapeOf, type ChannelRule } from './channel-rule-helpers.js';

function int64(values: readonly number[]): Tensor {
  return Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));
}

function constantInts(value: Value | null | undefined): number[] | undefined {
  return constantOf(value)?.toNumbers();
}

/** Replaces the constant operand `index` of `node` (in place when nobody else reads it). */
function setConstantOperand(node: Node, index: number, tensor: Tensor): void {
  const value = node.inputs[index];
  if (value?.constant && value.useCount === 1 && !value.isGraphInput && !value.isGraphOutput) {
    value.setConstant(tensor);
    return;
  }
  node.setInput(index, Builder.before(node).constant(tensor, value?.name ?? `${node.name}_operand`));
  const producer = value?.producer;
  if (producer?.op === 'onnx.Constant' && !value!.hasUses) producer.erase();
}

function normalize(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

function concat(node: Node, analysis: ChannelAnalysis): void {
  const rank = shapeOf(node.outputs[0])?.length ?? shapeOf(node.inputs[0])?.length;
  const dims = node.inputs.map((input) => analysis.trackedOf(input));
  if (rank === undefined || dims.every((dim) => !dim)) return;
  const axis = normalize(node.attr('axis', 'int'), rank);
  const layouts: ChannelLayout[] = [];
  let offAxis: ChannelLayout | undefined;
  for (let i = 0; i < node.inputs.length; i++) {
    const dim = dims[i];
    const size = shapeOf(node.inputs[i])?.[axis];
    if (dim && dim.axis === axis) layouts.push(dim.layout);
    else if (dim) {
      if (offAxis) analysis.unify(offAxis, dim.layout, `${describeNode(node)} ties channel layouts that do not line up`);
      else offAxis = dim.layout;
    } else if (typeof size === 'number') layouts.push([fullPiece(analysis.opaqueGroup(size, `${describeNode(node)} joins them with '${node.inputs[i]!.name}', which the analysis does not follow`))]);
    else return refuseUnknownOp(node, analysis, `joins values of unknown size on axis ${axis}`);
  }
  if (offAxis) {
    // Channels are tracked on another axis than the one joined: every operand must carry them.
    if (dims.some((dim) => !dim || dim.axis === axis)) return refuseUnknownOp(node, analysis, 'joins tracked and untracked channels off the concatenation axis');
    analysis.track(node.outputs[0], dims[0]!.axis, offAxis);
    return;
  }
  analysis.track(node.outputs[0], axis, layouts.flat());
}

/** Split on the channel axis: each output gets its range; sizes are rewritten after pruning. */
function split(node: Node, analysis: ChannelAnalysis): void {
  const dim = analysis.trackedOf(node.inputs[0]);
  if (!dim) return;
  const rank = shapeOf(node.inputs[0])?.length ?? 0;
  const axis = normalize(node.optionalAttr('axis', 'int') ?? 0, rank);
  if (axis !== dim.axis) {
    for (const output of node.outputs) analysis.track(output, dim.axis, dim.layout);
    return;
  }
  const total = layoutLength(dim.layout);
  const fromInput = node.inputs[1] ? constantInts(node.inputs[1]) : undefined;
  if (node.inputs[1] && !fromInput) return analysis.refuse(dim.layout, `${describeNode(node)} splits by sizes that are not constants`);
  const sizes = fromInput ?? node.optionalAttr('split', 'ints')?.map(Number) ?? evenSizes(total, node.outputs.length);
  const layouts: ChannelLayout[] = [];
  let start = 0;
  for (const size of sizes) {
    const part = subLayout(dim.layout, start, start + size);
    if (!part) return analysis.refuse(dim.layout, `${describeNode(node)} cuts inside a channel's block of features`);
    layouts.push(part);
    start += size;
  }
  node.outputs.forEach((output, i) => analysis.track(output, axis, layouts[i]!));
  analysis.fixup(node, 'split sizes', dim.layout, () => {
    const bounds = [0, ...sizes.map((_, i) => sizes.slice(0, i + 1).reduce((a, b) => a + b, 0))];
    const next = sizes.map((_, i) => keptBefore(dim.layout, bounds[i + 1]!) - keptBefore(dim.layout, bounds[i]!));
    if ((analysis.model.opset() ?? 13) >= 13) {
      node.removeAttribute('num_outputs');
      if (node.inputs.length < 2) node.addInput(Builder.before(node).constant(int64(next), `${node.name}_split`));
      else setConstantOperand(node, 1, int64(next));
    } else node.setAttribute('split', attrs.ints(next));
  });
}

function evenSizes(total: number, parts: number): number[] {
  const each = Math.ceil(total / parts);
  return Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(each, total - i * each)));
}

/** Slice (opset ≥ 10, constant operands) on the channel axis: step 1 only. */
function slice(node: Node, analysis: ChannelAnalysis): void {
  const dim = analysis.trackedOf(node.inputs[0]);
  if (!dim) return;
  const rank = shapeOf(node.inputs[0])?.length ?? 0;
  const starts = constantInts(node.inputs[1]);
  const ends = constantInts(node.inputs[2]);
  const axes = node.inputs[3] ? constantInts(node.inputs[3]) : starts?.map((_, i) => i);
  const steps = node.inputs[4] ? constantInts(node.inputs[4]) : starts?.map(() => 1);
  if (!starts || !ends || !axes || !steps) return analysis.refuse(dim.layout, `${describeNode(node)} slices with bounds that are not constants`);
  const at = axes.findIndex((axis) => normalize(axis, rank) === dim.axis);
  if (at < 0) return analysis.track(node.outputs[0], dim.axis, dim.layout);
  if (steps[at] !== 1) return analysis.refuse(dim.layout, `${describeNode(node)} slices channels with step ${steps[at]}`);
  const total = layoutLength(dim.layout);
  const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + total : v, 0), total);
  const start = clamp(starts[at]!);
  const end = Math.max(start, clamp(ends[at]!));
  const part = subLayout(dim.layout, start, end);
  if (!part) return analysis.refuse(dim.layout, `${describeNode(node)} cuts inside a channel's block of features`);
  analysis.track(node.outputs[0], dim.axis, part);
  analysis.fixup(node, 'slice bounds', dim.layout, () => {
    const newStarts = [...starts];
    const newEnds = [...ends];
    newStarts[at] = keptBefore(dim.layout, start);
    newEnds[at] = keptBefore(dim.layout, end);
    setConstantOperand(node, 1, int64(newStarts));
    setConstantOperand(node, 2, int64(newEnds));
  });
}

/** A product of dims: a number and the sorted symbols (N·3·4 = '12*N'); an unknown dim is '?'. */
function product(dims: readonly (number | string | null)[]): string {
  let value = 1;
  const symbols: string[] = [];
  for (const dim of dims) {
    if (typeof dim === 'number') value *= dim;
    else symbols.push(dim ?? '?');
  }
  return `${value}*${symbols.sort().join('*')}`;
}

/** Equal products; one unknown dim ('?') on one side may stand for one symbol on the other (the batch). */
function sameProduct(a: string, b: string): boolean {
  if (a === b) return true;
  const [na, ...sa] = a.split('*');
  const [nb, ...sb] = b.split('*');
  const symbolsA = sa.filter(Boolean);
  const symbolsB = sb.filter(Boolean);
  if (na !== nb || symbolsA.length !== 1 || symbolsB.length !== 1) return false;
  return symbolsA[0] === '?' || symbolsB[0] === '?';
}

function numericProduct(dims: readonly (number | string | null)[]): number {
  return dims.reduce<number>((a, d) => a * (typeof d === 'number' ? d : Number.NaN), 1);
}

/**
 * Reshape-like ops: finds where the tracked axis lands in the output. Identity (the channel dim
 * kept with the same inner size) or merging (channels with the dims after them, each channel a
 * block). Anything else — a channel dimension split in two, as in a channel shuffle — is refused.
 */
function reshapeLike(node: Node, analysis: ChannelAnalysis): void {
  const dim = analysis.trackedOf(node.inputs[0]);
  if (!dim) return;
  const inShape = shapeOf(node.inputs[0]);
  let outShape = shapeOf(node.outputs[0]);
  const refuse = (why: string): void => analysis.refuse(dim.layout, `${describeNode(node)} ${why}`);
  if (!inShape) return refuse('has an unknown shape');
  if (node.op === 'onnx.Flatten') {
    const axis = normalize(node.optionalAttr('axis', 'int') ?? 1, inShape.length);
    const outer = numericProduct(inShape.slice(0, axis));
    outShape = [Number.isFinite(outer) ? outer : null, numericProduct(inShape.slice(axis))];
    if (axis > dim.axis || numericProduct(inShape.slice(axis, dim.axis)) !== 1) return refuse(`flattens the channels into the batch or behind other dims (axis ${axis})`);
  }
  if (!outShape) return refuse('has an unknown shape');
  const channels = inShape[dim.axis];
  const prefix = product(inShape.slice(0, dim.axis));
  const innerCount = numericProduct(inShape.slice(dim.axis + 1));
  if (typeof channels !== 'number' || !Number.isFinite(innerCount)) return refuse('has unknown dims after the channels');
  for (let b = 0; b < outShape.length; b++) {
    if (!sameProduct(product(outShape.slice(0, b)), prefix) && !(node.op === 'onnx.Flatten' && b === 1)) continue;
    const size = outShape[b];
    const outInner = numericProduct(outShape.slice(b + 1));
    if (typeof size !== 'number' || size % channels !== 0 || !Number.isFinite(outInner)) continue;
    const factor = size / channels;
    if (factor * outInner !== innerCount) continue;
    const layout = factor === 1 ? dim.layout : scaleBlocks(dim.layout, factor);
    analysis.track(node.outputs[0], b, layout);
    if (node.op === 'onnx.Reshape') {
      const target = constantInts(node.inputs[1]);
      if (!target) return refuse('reshapes to a shape that is not a constant');
      if (target[b] !== -1 && target[b] !== 0) {
        analysis.fixup(node, 'reshape target', layout, () => {
          const next = [...target];
          next[b] = keptIndices(layout).length;
          setConstantOperand(node, 1, int64(next));
        });
      }
    }
    return;
  }
  refuse(`splits or reorders the channel dimension (${channels} channels into [${outShape.map((d) => d ?? '?').join(',')}]; channel shuffles are not pruned)`);
}

function transpose(node: Node, analysis: ChannelAnalysis): void {
  const dim = analysis.trackedOf(node.inputs[0]);
  if (!dim) return;
  const rank = shapeOf(node.inputs[0])?.length ?? 0;
  const perm = node.optionalAttr('perm', 'ints')?.map(Number) ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  analysis.track(node.outputs[0], perm.indexOf(dim.axis), dim.layout);
}

function reduce(node: Node, analysis: ChannelAnalysis): void {
  const dim = analysis.trackedOf(node.inputs[0]);
  if (!dim) return;
  const rank = shapeOf(node.inputs[0])?.length ?? 0;
  const axes = (node.optionalAttr('axes', 'ints')?.map(Number) ?? constantInts(node.inputs[1]) ?? []).map((a) => normalize(a, rank));
  const noopWithEmpty = (node.optionalAttr('noop_with_empty_axes', 'int') ?? 0) === 1;
  if ((axes.length === 0 && !noopWithEmpty) || axes.includes(dim.axis)) return analysis.refuse(dim.layout, `${describeNode(node)} reduces over the channels`);
  const keepDims = (node.optionalAttr('keepdims', 'int') ?? 1) === 1;
  const axis = keepDims ? dim.axis : dim.axis - axes.filter((a) => a < dim.axis).length;
  analysis.track(node.outputs[0], axis, dim.layout);
}

function pad(node: Node, analysis: ChannelAnalysis): void {
  const dim = analysis.trackedOf(node.inputs[0]);
  if (!dim) return;
  const rank = shapeOf(node.inputs[0])?.length ?? 0;
  const pads = node.optionalAttr('pads', 'ints')?.map(Number) ?? constantInts(node.inputs[1]);
  const axes = node.inputs[3] ? constantInts(node.inputs[3])?.map((a) => normalize(a, rank)) : Array.from({ length: rank }, (_, i) => i);
  if (!pads || !axes) return analysis.refuse(dim.layout, `${describeNode(node)} pads by amounts that are not constants`);
  const at = axes.indexOf(dim.axis);
  if (at >= 0 && (pads[at] !== 0 || pads[at + axes.length] !== 0)) return analysis.refuse(dim.layout, `${describeNode(node)} pads the channel axis`);
  analysis.track(node.outputs[0], dim.axis, dim.layout);
}

/** Resize/Upsample keep channels when the channel dim of the output equals the input's. */
function resize(node: Node, analysis: ChannelAnalysis): void {
  const dim = analysis.trackedOf(node.inputs[0]);
  if (!dim) return;
  const inSize = shapeOf(node.inputs[0])?.[dim.axis];
  const outSize = shapeOf(node.outputs[0])?.[dim.axis];
  const sizes = node.inputs[3] ? constantInts(node.inputs[3]) : undefined;
  if (typeof inSize !== 'number' || inSize !== outSize || sizes) return analysis.refuse(dim.layout, `${describeNode(node)} resizes the channel axis or sizes it by a constant`);
  analysis.track(node.outputs[0], dim.axis, dim.layout);
}

export const SHAPE_RULES: readonly [string, ChannelRule][] = [
  ['onnx.Concat', concat],
  ['onnx.Split', split],
  ['onnx.Slice', slice],
  ['onnx.Reshape', reshapeLike],
  ['onnx.Flatten', reshapeLike],
  ['onnx.Squeeze', reshapeLike],
  ['onnx.Unsqueeze', reshapeLike],
  ['onnx.Transpose', transpose],
  ...['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceL1', 'ReduceL2', 'ReduceProd', 'ReduceSumSquare', 'ReduceLogSumExp'].map((op): [string, ChannelRule] => [`onnx.${op}`, reduce]),
  ['onnx.Pad', pad],
  ['onnx.Resize', resize],
];
