/**
 * Narrow grouped convolutions, merged into fewer, wider groups before planning (block-diagonal
 * weights: the added weights are zeros, so every output is the same sum as before).
 *
 * Why: ORT's QLinearConv has no integer kernel for a grouped (not depthwise) convolution. MLAS's
 * symmetric indirect convolution takes one group only and its depthwise kernel one channel per
 * group, so each group runs as its own im2col + symmetric GEMM, and a GEMM with 8 output columns
 * leaves half of each AVX-512 register empty. RegNet's 8-channel groups ran no faster as int8 than
 * ORT's float grouped Conv. Measured (ORT 1.30, one thread, AMD EPYC with AVX-512 VNNI, median
 * kernel time of 60 interleaved runs; `tools/bench/quantize/op-profile.mjs` on regnet_y_400mf):
 *
 * | regnet_y_400mf conv (channels, groups of 8, output) | float | int8 grouped | int8 merged   |
 * |---|---:|---:|---:|
 * | block1: 48, 6 groups, 56×56 (stride 2)                | 1.08 ms | 0.96 ms | dense 0.33 ms |
 * | block2: 104, 13 groups, 28×28                         | 0.37 ms | 0.55 ms | dense 0.39 ms |
 * | block3: 208, 26 groups, 14×14                         | 0.24 ms | 0.26 ms | 13 groups of 16: 0.15 ms (dense 0.38) |
 * | block4: 440, 55 groups, 7×7                           | 0.20 ms | 0.16 ms | 11 groups of 40: 0.11 ms |
 *
 * The rule (`grouped-convs=merge`, the default): a quantized Conv with more than one group, groups
 * narrower than MIN_GROUP_WIDTH channels on either side and not depthwise (one input channel per
 * group: MLAS has a depthwise kernel, and merging would multiply its work by the merge factor),
 *   - becomes one dense Conv when it has at most MAX_DENSE_GROUPS groups and MLAS's indirect
 *     convolution takes the dense shape (input and output channels multiples of 4, at least 16
 *     outputs): the work grows by the group count, but that kernel is several times faster per
 *     multiply-add than the per-group path;
 *   - else merges the smallest number k ≤ MAX_MERGE of neighbouring groups that divides the group
 *     count and makes groups at least MIN_GROUP_WIDTH wide (k times the multiply-adds);
 *   - else stays as it is.
 * Weights grow by the same factor (regnet_y_400mf's int8 file: +0.3 MB).
 */
import { attrs, Tensor, type Graph, type Node, type Value } from '@modelpass/ir';

export interface MergedGroupedConv {
  readonly node: string;
  readonly groupsBefore: number;
  readonly groupsAfter: number;
}

/** Group widths (channels) from which MLAS's per-group symmetric GEMM fills a 16-lane int32 vector. */
export const MIN_GROUP_WIDTH = 16;
/** At most this many groups become one dense Conv (measured faster up to 13; 26 was slower than merging pairs). */
export const MAX_DENSE_GROUPS = 16;
/** The largest merge factor tried when the Conv does not become dense. */
export const MAX_MERGE = 8;

/** The group count a grouped Conv gets (see the rule above), or undefined to leave it. */
export function mergedGroupCount(groups: number, inputChannels: number, outputChannels: number): number | undefined {
  if (groups <= 1 || inputChannels % groups !== 0 || outputChannels % groups !== 0) return undefined;
  const widthIn = inputChannels / groups;
  const widthOut = outputChannels / groups;
  if (widthIn === 1) return undefined;
  if (widthIn >= MIN_GROUP_WIDTH && widthOut >= MIN_GROUP_WIDTH) return undefined;
  const denseFast = inputChannels % 4 === 0 && outputChannels % 4 === 0 && outputChannels >= 16;
  if (groups <= MAX_DENSE_GROUPS && denseFast) return 1;
  for (let k = 2; k <= MAX_MERGE; k++) {
    if (groups % k === 0 && k * widthIn >= MIN_GROUP_WIDTH && k * widthOut >= MIN_GROUP_WIDTH) return groups / k;
  }
  return undefined;
}

/** The weight of `groupsAfter` groups holding the same filters block-diagonally (zeros elsewhere). */
export function blockDiagonalWeight(weight: Tensor, groupsBefore: number, groupsAfter: number): Tensor {
  const [outputChannels, widthIn, ...kernel] = weight.shape as number[];
  const spatial = kernel.reduce((a, b) => a * b, 1);
  const widthOut = outputChannels! / groupsBefore;
  const k = groupsBefore / groupsAfter;
  const newWidthIn = widthIn! * k;
  const source = weight.toNumbers();
  const values = new Float32Array(outputChannels! * newWidthIn * spatial);
  for (let o = 0; o < outputChannels!; o++) {
    const slot = Math.floor(o / widthOut) % k;
    for (let i = 0; i < widthIn!; i++) {
      const from = (o * widthIn! + i) * spatial;
      const to = (o * newWidthIn + slot * widthIn! + i) * spatial;
      for (let s = 0; s < spatial; s++) values[to + s] = source[from + s]!;
    }
  }
  return Tensor.fromValues('float32', [outputChannels!, newWidthIn, ...kernel], values);
}

/** Merges the groups of every quantized grouped Conv the rule picks (before weights are quantized). */
export function mergeGroupedConvs(graph: Graph, isQuantized: (node: Node) => boolean): MergedGroupedConv[] {
  const merged: MergedGroupedConv[] = [];
  // A weight several Convs share (the same layer applied twice) gets one merged copy, read by all of them.
  const wideOf = new Map<Value, Map<string, Value>>();
  for (const node of [...graph.nodesOf('onnx.Conv')]) {
    if (!isQuantized(node)) continue;
    const weight = node.inputs[1]?.constant;
    if (!weight || weight.dtype !== 'float32' || weight.rank < 3) continue;
    const groups = node.optionalAttr('group', 'int') ?? 1;
    const outputChannels = weight.shape[0]!;
    const inputChannels = weight.shape[1]! * groups;
    const after = mergedGroupCount(groups, inputChannels, outputChannels);
    if (after === undefined) continue;
    const old = node.inputs[1]!;
    const made = wideOf.get(old) ?? new Map<string, Value>();
    wideOf.set(old, made);
    const key = `${groups}→${after}`;
    let wide = made.get(key);
    if (!wide) made.set(key, (wide = graph.addConstant(graph.uniqueName(`${old.name}_merged`), blockDiagonalWeight(weight, groups, after))));
    node.setInput(1, wide);
    if (!old.hasUses && !old.isGraphOutput && !old.isGraphInput) graph.removeConstant(old);
    node.setAttribute('group', attrs.int(after));
    merged.push({ node: node.name, groupsBefore: groups, groupsAfter: after });
  }
  return merged;
}
