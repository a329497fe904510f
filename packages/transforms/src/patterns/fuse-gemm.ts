import { attrs, type Node, type Rewriter, type Tensor, type Value } from '@modelpass/ir';
import { constantOf, dtypeOf, shapeOf } from '../util/constants.js';
import { broadcastBinary, denseOf, floatTensor, FUSIBLE_FLOAT_DTYPES, perChannelVector, tooLargeToFuse, type DenseArray } from '../util/float-math.js';
import { hasSingleUse } from '../util/graph-walk.js';
import { batchNormAffine } from './batch-norm.js';
import { addConstant, adoptConstantName, onnxOpset, replaceWithNode, splitConstantOperand } from './helpers.js';
import { declined, definePattern, type PatternEnv, type TransformPattern } from './pattern.js';

/** A Gemm or 2-D MatMul with a constant B, whose only user is `consumer`. */
interface LinearWeights {
  linear: Node;
  a: Value;
  /** B as stored, and whether it is stored transposed ([N,K]). */
  b: Tensor;
  transB: boolean;
  /** C as stored (absent: zeros), with the Gemm's beta already applied. */
  c: DenseArray | undefined;
  alpha: number;
  transA: boolean;
  /** Output columns N. */
  columns: number;
}

function linearFeeding(consumer: Node, inputIndex: number, pattern: string, env: PatternEnv): LinearWeights | false {
  const value = consumer.inputs[inputIndex];
  const linear = value?.producer;
  if (!value || !linear || (linear.op !== 'onnx.Gemm' && linear.op !== 'onnx.MatMul')) return false;
  if (!hasSingleUse(value)) return declined(env, pattern, consumer, `${linear.op} '${linear.name}' output has other users`);
  const b = constantOf(linear.inputs[1]);
  if (!b || b.rank !== 2) return declined(env, pattern, consumer, `${linear.op} '${linear.name}' B is not a constant matrix`);
  if (!FUSIBLE_FLOAT_DTYPES.has(b.dtype)) return declined(env, pattern, consumer, `B dtype ${b.dtype} is not float32/float64`);
  const tooLarge = tooLargeToFuse(b);
  if (tooLarge) return declined(env, pattern, consumer, tooLarge);
  const a = linear.input(0);
  if (linear.op === 'onnx.MatMul') {
    if (shapeOf(a)?.length !== 2) return declined(env, pattern, consumer, 'MatMul input A is not known to be 2-D');
    return { linear, a, b, transB: false, c: undefined, alpha: 1, transA: false, columns: b.shape[1]! };
  }
  if ((onnxOpset(env) ?? 17) < 7) return declined(env, pattern, consumer, 'Gemm before opset 7 has broadcast semantics');
  const transB = linear.optionalAttr('transB', 'int') === 1;
  const cValue = linear.inputs[2];
  const cTensor = cValue ? constantOf(cValue) : undefined;
  if (cValue && !cTensor) return declined(env, pattern, consumer, `${linear.op} '${linear.name}' C is not constant`);
  if (cTensor && cTensor.dtype !== b.dtype) return declined(env, pattern, consumer, 'C dtype differs from B');
  const beta = linear.optionalAttr('beta', 'float') ?? 1;
  const c = cTensor ? denseOf(cTensor) : undefined;
  if (c) c.values = c.values.map((v) => v * Math.fround(beta));
  return {
    linear,
    a,
    b,
    transB,
    c,
    alpha: linear.optionalAttr('alpha', 'float') ?? 1,
    transA: linear.optionalAttr('transA', 'int') === 1,
    columns: transB ? b.shape[0]! : b.shape[1]!,
  };
}

/** B with column n (output feature n) multiplied by scale[n]. */
function scaleColumns(weights: LinearWeights, scale: Float64Array): Tensor {
  const dense = denseOf(weights.b);
  const [rows, cols] = weights.b.shape as [number, number];
  const out = new Float64Array(dense.values.length);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) {
      const feature = weights.transB ? r : k;
      out[r * cols + k] = dense.values[r * cols + k]! * scale[feature]!;
    }
  }
  return floatTensor(weights.b.dtype, weights.b.shape, out);
}

/** Emits Gemm(A, B', C') with beta = 1, replacing `consumer`. */
function emitGemm(consumer: Node, weights: LinearWeights, b: Tensor, c: DenseArray, rewriter: Rewriter): boolean {
  const graph = rewriter.graph;
  const bValue = addConstant(graph, `${weights.linear.name}_B`, b);
  const cValue = addConstant(graph, `${weights.linear.name}_C`, floatTensor(b.dtype, c.shape, c.values));
  const oldB = weights.linear.input(1);
  const oldC = weights.linear.op === 'onnx.Gemm' ? weights.linear.inputs[2] : undefined;
  const gemm = rewriter.createNode({
    op: 'onnx.Gemm',
    inputs: [weights.a, bValue, cValue],
    attributes: {
      alpha: attrs.float(weights.alpha),
      beta: attrs.float(1),
      transA: attrs.int(weights.transA ? 1 : 0),
      transB: attrs.int(weights.transB ? 1 : 0),
    },
    name: weights.linear.name,
    before: consumer,
  });
  if (!replaceWithNode(consumer, gemm, rewriter)) return false;
  rewriter.eraseNode(weights.linear);
  adoptConstantName(bValue, oldB);
  adoptConstantName(cValue, oldC);
  return true;
}

function vector(values: Float64Array): DenseArray {
  return { shape: [values.length], values };
}

export const fuseBatchNormIntoGemm = definePattern({
  name: 'fuse-bn-into-gemm',
  ops: ['onnx.BatchNormalization'],
  statistic: 'nodes-fused',
  rewrite(node, rewriter, env) {
    const weights = linearFeeding(node, 0, 'fuse-bn-into-gemm', env);
    if (!weights) return false;
    const affine = batchNormAffine(node, weights.columns, env);
    if (typeof affine === 'string') return declined(env, 'fuse-bn-into-gemm', node, affine);
    const base = weights.c ?? vector(new Float64Array(weights.columns));
    const shifted = broadcastBinary(base, vector(affine.mean), (c, m) => c - m);
    const scaled = shifted && broadcastBinary(shifted, vector(affine.scale), (c, s) => c * s);
    const c = scaled && broadcastBinary(scaled, vector(affine.shift), (c, beta) => c + beta);
    if (!c || c.shape.length > 2) return declined(env, 'fuse-bn-into-gemm', node, 'C does not broadcast with the channel vector');
    return emitGemm(node, weights, scaleColumns(weights, affine.scale), c, rewriter);
  },
});

/** Gemm / 2-D MatMul → Mul/Div by a per-column constant becomes a Gemm with scaled B and C. */
export const fuseScaleIntoGemm = definePattern({
  name: 'fuse-mul-into-gemm',
  ops: ['onnx.Mul', 'onnx.Div'],
  statistic: 'nodes-fused',
  rewrite(node, rewriter, env) {
    const split = splitConstantOperand(node, node.op === 'onnx.Mul');
    if (!split) return false;
    const weights = linearFeeding(node, split.constantIndex === 1 ? 0 : 1, 'fuse-mul-into-gemm', env);
    if (!weights) return false;
    if (split.constant.dtype !== weights.b.dtype) return declined(env, 'fuse-mul-into-gemm', node, 'factor dtype differs from B');
    const factor = perChannelVector(split.constant, 2, 1, weights.columns);
    if (!factor) return declined(env, 'fuse-mul-into-gemm', node, `factor of shape [${split.constant.shape.join(',')}] is not per output column`);
    const scale = node.op === 'onnx.Div' ? factor.map((d) => 1 / d) : factor;
    if (!scale.every((s) => Number.isFinite(s) && s !== 0)) return declined(env, 'fuse-mul-into-gemm', node, 'a factor is zero, infinite or NaN');
    const base = weights.c ?? vector(new Float64Array(weights.columns));
    const c = broadcastBinary(base, vector(scale), (x, s) => x * s);
    if (!c || c.shape.length > 2) return declined(env, 'fuse-mul-into-gemm', node, 'C does not broadcast with the factor');
    return emitGemm(node, weights, scaleColumns(weights, scale), c, rewriter);
  },
});

/** MatMul(A, B) + C becomes Gemm(A, B, C) when A and B are 2-D and C broadcasts to [M, N] without growing it. */
export const fuseMatMulAddIntoGemm = definePattern({
  name: 'fuse-matmul-add-into-gemm',
  ops: ['onnx.Add'],
  statistic: 'nodes-fused',
  rewrite(node, rewriter, env) {
    const name = 'fuse-matmul-add-into-gemm';
    const index = node.inputs.findIndex((input) => input?.producer?.op === 'onnx.MatMul');
    if (index < 0 || node.inputs.length !== 2) return false;
    const product = node.inputs[index]!;
    const matmul = product.producer!;
    const c = node.inputs[1 - index]!;
    if (!hasSingleUse(product)) return declined(env, name, node, 'MatMul output has other users');
    if ((onnxOpset(env) ?? 17) < 11) return declined(env, name, node, 'opset below 11');
    const dtype = dtypeOf(product) ?? dtypeOf(matmul.inputs[1]) ?? dtypeOf(matmul.inputs[0]);
    if (!dtype || !FUSIBLE_FLOAT_DTYPES.has(dtype)) return declined(env, name, node, `dtype ${dtype ?? 'unknown'} is not float32/float64`);
    const aShape = shapeOf(matmul.inputs[0]);
    const bShape = shapeOf(matmul.inputs[1]);
    const cShape = shapeOf(c);
    if (aShape?.length !== 2 || bShape?.length !== 2) return declined(env, name, node, 'A and B are not known to be 2-D');
    if (!cShape) return declined(env, name, node, 'shape of the addend is unknown');
    const out = [aShape[0], bShape[1]];
    if (cShape.length > 2) return declined(env, name, node, 'addend rank above 2');
    const offset = 2 - cShape.length;
    const fits = cShape.every((dim, i) => dim === 1 || (typeof dim === 'number' && dim === out[i + offset]));
    if (!fits) return declined(env, name, node, `addend shape [${cShape.join(',')}] does not broadcast to [${out.join(',')}] in place`);
    const gemm = rewriter.createNode({ op: 'onnx.Gemm', inputs: [matmul.input(0), matmul.input(1), c], name: matmul.name, before: node });
    if (!replaceWithNode(node, gemm, rewriter)) return false;
    rewriter.eraseNode(matmul);
    return true;
  },
});

/** Gemm(Transpose(A), B) = Gemm(A, B, transA=1) (same for B). */
export const fuseTransposeIntoGemm = definePattern({
  name: 'fuse-transpose-into-gemm',
  ops: ['onnx.Gemm'],
  statistic: 'nodes-fused',
  rewrite(node) {
    for (const [index, flag] of [[0, 'transA'], [1, 'transB']] as const) {
      const transpose = node.inputs[index]?.producer;
      if (!transpose || transpose.op !== 'onnx.Transpose') continue;
      const perm = transpose.optionalAttr('perm', 'ints');
      if (perm && !(perm.length === 2 && perm[0] === 1 && perm[1] === 0)) continue;
      node.setAttribute(flag, attrs.int(node.optionalAttr(flag, 'int') === 1 ? 0 : 1));
      node.setInput(index, transpose.input(0));
      return true;
    }
    return false;
  },
});

export const gemmFusionPatterns: readonly TransformPattern[] = [fuseBatchNormIntoGemm, fuseScaleIntoGemm, fuseMatMulAddIntoGemm, fuseTransposeIntoGemm];
