import { attrs, type Node } from '@modelpass/ir';
import { constantOf, intsOf, rankOf } from '../util/constants.js';
import { hasSingleUse, normalizeAxis } from '../util/graph-walk.js';
import { cancelDepthSpacePairs } from '../transpose/depth-space-pairs.js';
import { declined, definePattern, type PatternEnv, type TransformPattern } from './pattern.js';
import { addConstant, forwardOutput, int64Vector, intsAttributeOrInput, onnxOpset, replaceWithNode } from './helpers.js';

/** Transpose(Transpose(x, p1), p2) = Transpose(x, p1∘p2), or x when that is the identity. */
export const fuseConsecutiveTransposes = definePattern({
  name: 'fuse-consecutive-transposes',
  ops: ['onnx.Transpose'],
  statistic: 'nodes-fused',
  rewrite(node, rewriter, env) {
    const inner = node.inputs[0]?.producer;
    if (!inner || inner.op !== 'onnx.Transpose') return false;
    const outerPerm = node.optionalAttr('perm', 'ints');
    const innerPerm = inner.optionalAttr('perm', 'ints');
    const source = inner.input(0);
    if (!outerPerm && !innerPerm) return forwardOutput(node, source, rewriter);
    const rank = outerPerm?.length ?? innerPerm?.length ?? rankOf(source);
    if (rank === undefined) return declined(env, 'fuse-consecutive-transposes', node, 'rank unknown');
    const reverse = Array.from({ length: rank }, (_, i) => rank - 1 - i);
    const p1 = innerPerm ?? reverse;
    const p2 = outerPerm ?? reverse;
    if (p1.length !== p2.length) return declined(env, 'fuse-consecutive-transposes', node, 'permutations of different ranks');
    const composed = p2.map((axis) => p1[axis]!);
    if (composed.every((axis, i) => axis === i)) return forwardOutput(node, source, rewriter);
    const fused = rewriter.createNode({ op: 'onnx.Transpose', inputs: [source], attributes: { perm: attrs.ints(composed) }, name: node.name });
    return replaceWithNode(node, fused, rewriter);
  },
});

/** Reshape(Reshape(x, s1), s2) = Reshape(x, s2) when s2 does not copy dims (no 0) from the middle. */
export const fuseConsecutiveReshapes = definePattern({
  name: 'fuse-consecutive-reshapes',
  ops: ['onnx.Reshape'],
  statistic: 'nodes-fused',
  rewrite(node, rewriter, env) {
    const inner = node.inputs[0]?.producer;
    if (!inner || inner.op !== 'onnx.Reshape' || !node.inputs[1]) return false;
    const target = intsOf(node.inputs[1]);
    if (!target) return declined(env, 'fuse-consecutive-reshapes', node, 'target shape is not constant');
    const allowZero = node.optionalAttr('allowzero', 'int') === 1;
    if (!allowZero && target.includes(0)) return declined(env, 'fuse-consecutive-reshapes', node, 'target shape copies a dim (0) of the intermediate shape');
    node.setInput(0, inner.input(0));
    return true;
  },
});

/** Axes of a Squeeze/Unsqueeze (attribute before opset 13, input after). */
function axesOf(node: Node): number[] | null | undefined {
  return intsAttributeOrInput(node, 'axes', 1);
}

function makeAxesNode(node: Node, op: string, source: Node['inputs'][number], axes: number[], env: PatternEnv, rewriter: Parameters<TransformPattern['rewrite']>[1]): Node {
  const opset = onnxOpset(env) ?? 13;
  if (opset >= 13) {
    const axesValue = addConstant(rewriter.graph, `${node.name}_axes`, int64Vector(axes));
    return rewriter.createNode({ op, inputs: [source, axesValue], name: node.name });
  }
  return rewriter.createNode({ op, inputs: [source], attributes: { axes: attrs.ints(axes) }, name: node.name });
}

/**
 * Unsqueeze(Unsqueeze(x, a1), a2) = Unsqueeze(x, a) with the axes of both in final positions;
 * Squeeze(Unsqueeze(x, a), a) = x; Squeeze(Squeeze(x, a1), a2) = Squeeze(x, a) in input positions.
 */
export const fuseConsecutiveSqueezes = definePattern({
  name: 'fuse-consecutive-squeezes',
  ops: ['onnx.Unsqueeze', 'onnx.Squeeze'],
  statistic: 'nodes-fused',
  rewrite(node, rewriter, env) {
    const inner = node.inputs[0]?.producer;
    if (!inner || (inner.op !== 'onnx.Unsqueeze' && inner.op !== 'onnx.Squeeze')) return false;
    const name = 'fuse-consecutive-squeezes';
    const outerAxes = axesOf(node);
    const innerAxes = axesOf(inner);
    if (!outerAxes || !innerAxes) return declined(env, name, node, 'axes are absent or not constant');
    const source = inner.input(0);
    const sourceRank = rankOf(source);
    const needsRank = [...outerAxes, ...innerAxes].some((a) => a < 0);
    if (needsRank && sourceRank === undefined) return declined(env, name, node, 'negative axes and unknown input rank');
    if (node.op === 'onnx.Unsqueeze' && inner.op === 'onnx.Unsqueeze') {
      if (!hasSingleUse(inner.output(0))) return declined(env, name, node, 'the inner Unsqueeze has other users');
      const middleRank = sourceRank === undefined ? undefined : sourceRank + innerAxes.length;
      const finalRank = middleRank === undefined ? undefined : middleRank + outerAxes.length;
      const a1 = normalizeAll(innerAxes, middleRank);
      const a2 = normalizeAll(outerAxes, finalRank);
      if (!a1 || !a2) return declined(env, name, node, 'axes out of range');
      // Positions of the inner axes in the final tensor: the final positions not taken by a2, in order.
      const outerSet = new Set(a2);
      const free: number[] = [];
      const maxInner = Math.max(...a1);
      for (let position = 0; free.length <= maxInner; position++) if (!outerSet.has(position)) free.push(position);
      const combined = [...a2, ...a1.map((axis) => free[axis]!)].sort((x, y) => x - y);
      return replaceWithNode(node, makeAxesNode(node, 'onnx.Unsqueeze', source, combined, env, rewriter), rewriter);
    }
    if (node.op === 'onnx.Squeeze' && inner.op === 'onnx.Unsqueeze') {
      const middleRank = sourceRank === undefined ? undefined : sourceRank + innerAxes.length;
      const a1 = normalizeAll(innerAxes, middleRank);
      const a2 = normalizeAll(outerAxes, middleRank);
      if (!a1 || !a2) return declined(env, name, node, 'axes out of range');
      const same = a1.length === a2.length && [...a1].sort().every((axis, i) => axis === [...a2].sort()[i]);
      if (!same) return declined(env, name, node, 'Squeeze removes other axes than the Unsqueeze inserted');
      return forwardOutput(node, source, rewriter);
    }
    if (node.op === 'onnx.Squeeze' && inner.op === 'onnx.Squeeze') {
      if (!hasSingleUse(inner.output(0))) return declined(env, name, node, 'the inner Squeeze has other users');
      const a1 = normalizeAll(innerAxes, sourceRank);
      const middleRank = sourceRank === undefined ? undefined : sourceRank - innerAxes.length;
      const a2 = normalizeAll(outerAxes, middleRank);
      if (!a1 || !a2) return declined(env, name, node, 'axes out of range');
      const innerSet = new Set(a1);
      const kept: number[] = [];
      const maxOuter = Math.max(...a2);
      for (let position = 0; kept.length <= maxOuter; position++) if (!innerSet.has(position)) kept.push(position);
      const combined = [...a1, ...a2.map((axis) => kept[axis]!)].sort((x, y) => x - y);
      return replaceWithNode(node, makeAxesNode(node, 'onnx.Squeeze', source, combined, env, rewriter), rewriter);
    }
    return false;
  },
});

function normalizeAll(axes: readonly number[], rank: number | undefined): number[] | undefined {
  const out: number[] = [];
  for (const axis of axes) {
    if (axis >= 0) {
      if (rank !== undefined && axis >= rank) return undefined;
      out.push(axis);
      continue;
    }
    if (rank === undefined) return undefined;
    const normalized = normalizeAxis(axis, rank);
    if (normalized === undefined) return undefined;
    out.push(normalized);
  }
  return new Set(out).size === out.length ? out : undefined;
}

/** Concat(a, Concat(b, c), d) on one axis = Concat(a, b, c, d) when the inner one has no other user. */
export const fuseConsecutiveConcats = definePattern({
  name: 'fuse-consecutive-concats',
  ops: ['onnx.Concat'],
  statistic: 'nodes-fused',
  rewrite(node, rewriter, env) {
    const axis = node.optionalAttr('axis', 'int');
    if (axis === undefined) return false;
    const rank = rankOf(node.outputs[0]) ?? node.inputs.map((v) => rankOf(v)).find((r) => r !== undefined);
    const index = node.inputs.findIndex((input) => {
      const producer = input?.producer;
      if (!producer || producer.op !== 'onnx.Concat' || !hasSingleUse(input!)) return false;
      const innerAxis = producer.optionalAttr('axis', 'int');
      if (innerAxis === undefined) return false;
      if (innerAxis === axis) return true;
      if (rank === undefined) return false;
      return normalizeAxis(innerAxis, rank) === normalizeAxis(axis, rank);
    });
    if (index < 0) return false;
    const inner = node.inputs[index]!.producer!;
    const inputs = [...node.inputs.slice(0, index), ...inner.inputs, ...node.inputs.slice(index + 1)];
    node.setInputs(inputs);
    rewriter.eraseNode(inner);
    void env;
    return true;
  },
});

/**
 * A DepthToSpace and a SpaceToDepth of one block back to back (ONNX nodes or Reshape → Transpose → Reshape chains,
 * e.g. torch's `pixel_unshuffle(pixel_shuffle(x, 2), 2)`) whose channel orders compose to the identity: the second's
 * result is the first's input (`transpose/depth-space-pairs.ts`). Ahead of the Reshape fusions, which would break the chains.
 */
export const cancelDepthSpacePairsPattern = definePattern({
  name: 'cancel-depth-space-pairs',
  ops: ['onnx.DepthToSpace', 'onnx.SpaceToDepth', 'onnx.Reshape'],
  benefit: 2,
  statistic: 'nodes-fused',
  rewrite: (node) => cancelDepthSpacePairs(node),
});

/**
 * Clip(Relu(x), min, max) = Clip(x, min, max) when min is a constant ≥ 0 (the Clip's lower bound already
 * drops what Relu would): torch 1.13's `F.relu6` exports as Relu then Clip(0, 6), which otherwise leaves
 * quantize-static a Clip it cannot fold into the Conv before it (full-integer=true left it float). The Relu
 * stays for its other readers, if any.
 */
export const dropReluBeforeClip = definePattern({
  name: 'drop-relu-before-clip',
  ops: ['onnx.Clip'],
  statistic: 'nodes-fused',
  rewrite(node) {
    const relu = node.inputs[0]?.producer;
    if (!relu || relu.op !== 'onnx.Relu') return false;
    const min = node.optionalAttr('min', 'float') ?? constantOf(node.inputs[1])?.toNumbers();
    const bound = typeof min === 'number' ? min : min?.length === 1 ? min[0] : undefined;
    if (bound === undefined || !(bound >= 0)) return false;
    node.setInput(0, relu.input(0));
    return true;
  },
});

export const consecutivePatterns: readonly TransformPattern[] = [
  cancelDepthSpacePairsPattern,
  dropReluBeforeClip,
  fuseConsecutiveTransposes,
  fuseConsecutiveReshapes,
  fuseConsecutiveSqueezes,
  fuseConsecutiveConcats,
];
