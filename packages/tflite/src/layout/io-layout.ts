import { Builder, type Model, type Node, type Value } from '@modelpass/ir';
import { channelsFirstPermutation, channelsLastPermutation, insertTranspose, permuteType } from '@modelpass/transforms';
import { constantOf } from '../legalize/constant-values.js';

function rankOf(value: Value): number | undefined {
  return value.type.kind === 'tensor' && value.type.shape !== null ? value.type.shape.length : undefined;
}

/**
 * Declares the given graph inputs and outputs channels-last (NHWC): an input's type is permuted and
 * its readers get `Transpose(input, NHWC→NCHW)`; an output gets `Transpose(output, NCHW→NHWC)` under
 * its public name. The transposes meet those of the layout-sensitive ops, and sinking cancels them.
 * Returns the names of the values it changed.
 */
export function declareChannelsLast(model: Model, inputs: readonly Value[], outputs: readonly Value[]): string[] {
  return redeclareLayout(model, inputs, outputs.filter(keepsImageDims), channelsLastPermutation, channelsFirstPermutation);
}

/** Ops after which a tensor's dims are no longer batch, channels, spatial (the layout analysis still carries through them). */
const DIM_REGROUPING_OPS: ReadonlySet<string> = new Set(['onnx.Reshape', 'onnx.Flatten', 'onnx.Squeeze', 'onnx.Unsqueeze']);

/**
 * A Squeeze/Unsqueeze whose axes are all spatial (≥ 2 of its wider side: a 1-D Conv's lift to `[N, C, 1, L]`
 * and back): batch stays at 0 and channels at 1, so the result is still an image `[N, C, …]`.
 */
function changesOnlySpatialUnitDims(node: Node): boolean {
  if (node.op !== 'onnx.Squeeze' && node.op !== 'onnx.Unsqueeze') return false;
  const wide = rankOf(node.op === 'onnx.Squeeze' ? node.inputs[0]! : node.outputs[0]!);
  const attribute = node.attributes.get('axes');
  const axes = attribute?.kind === 'ints' ? attribute.value.map(Number) : constantOf(node.inputs[1])?.toNumbers();
  if (wide === undefined || !axes || axes.length === 0) return false;
  return axes.every((axis) => (axis < 0 ? axis + wide : axis) >= 2);
}

/**
 * Whether an output in the channels-first set still has image dims: no Reshape-like op between it and
 * the layout ops (the transposes they were lowered between) on any path. A detector's head reshaped to
 * [1, 2304, 1] is carried by the layout analysis, but its last dim is not a channel axis: declaring it
 * NHWC would permute a shape the model's author chose.
 */
function keepsImageDims(output: Value): boolean {
  const seen = new Set<Value>();
  const pending: Value[] = [output];
  while (pending.length > 0) {
    const value = pending.pop()!;
    if (seen.has(value)) continue;
    seen.add(value);
    const producer = value.producer;
    if (!producer || producer.op === 'onnx.Transpose' || producer.op.startsWith('tflite.')) continue;
    if (DIM_REGROUPING_OPS.has(producer.op) && !changesOnlySpatialUnitDims(producer)) return false;
    for (const input of producer.inputs) if (input && !input.isConstant) pending.push(input);
  }
  return true;
}

/**
 * The reverse, for a model converted from TFLite: rank-4 graph inputs and outputs (NHWC) are declared
 * NCHW, the ONNX convention. Returns the names of the values it changed.
 */
export function declareChannelsFirst(model: Model): string[] {
  const rank4 = (value: Value): boolean => rankOf(value) === 4;
  return redeclareLayout(model, model.graph.inputs.filter(rank4), model.graph.outputs.filter(rank4), channelsFirstPermutation, channelsLastPermutation);
}

/** `toOuter`: the permutation from the current layout to the declared one; `toInner` its inverse. */
function redeclareLayout(model: Model, inputs: readonly Value[], outputs: readonly Value[], toOuter: (rank: number) => number[], toInner: (rank: number) => number[]): string[] {
  const graph = model.graph;
  const changed: string[] = [];
  for (const input of inputs) {
    const rank = rankOf(input);
    if (rank === undefined || rank < 3 || !input.isGraphInput) continue;
    input.type = permuteType(input.type, toOuter(rank));
    const transposed = insertTranspose(Builder.atStart(graph), input, toInner(rank), `${input.name}_to_inner`);
    input.replaceAllUsesWith(transposed, { except: transposed.producer! });
    changed.push(input.name);
  }
  for (const output of outputs) {
    const rank = rankOf(output);
    if (rank === undefined || rank < 3 || !graph.outputs.includes(output)) continue;
    const name = output.name;
    const producer = output.producer;
    const at = producer ? Builder.after(producer) : Builder.atStart(graph);
    const transposed = insertTranspose(at, output, toOuter(rank), `${name}_to_outer`);
    output.replaceUsesWith(transposed, (use) => use.isGraphOutput && use.user === graph);
    if (!output.isGraphInput) {
      output.rename(graph.uniqueName(`${name}_inner`));
      transposed.rename(name);
    }
    changed.push(name);
  }
  return changed;
}
