/**
 * Matrix products: MatMul (numpy semantics with batch broadcasting), Gemm, MatMulInteger,
 * QLinearMatMul. Float products accumulate in float64 and round once to the output dtype;
 * integer products accumulate exactly.
 */
import { tensorType, type Dim, type Node, type Tensor } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { requantize } from './quantize-helpers.js';
import { viewNumbers } from '../util/elements.js';
import { inputShape, inputTensorType, typeOf } from '../util/inference.js';
import { inputTensor, opError, optionalInputTensor } from '../util/kernel-io.js';
import { broadcastDim, broadcastIndexMap, broadcastStaticShapes, sizeOf } from '../util/shape.js';
import { tensorFromNumbers } from './kernel-helpers.js';
import { dotProducts } from './conv-loops.js';
import { describeOperand, refuseShape } from '../util/shape-refusal.js';
import { verifyGemm, verifyMatMul } from '../verify/structure-checks.js';

/**
 * Output shape of numpy matmul for possibly symbolic shapes (undefined when ranks are unknown). With `node`, inputs
 * no matmul takes are refused (ONNX Runtime refuses them at load): a scalar operand, static inner dims that differ
 * (`ops/matmul-inner-dim`), static batch dims that do not broadcast (`ops/broadcast-shapes`).
 */
export function matmulDims(a: readonly Dim[], b: readonly Dim[], node?: Node, operands: readonly [number, number] = [0, 1]): Dim[] {
  const a2 = a.length === 1 ? [1, a[0]!] : a;
  const b2 = b.length === 1 ? [b[0]!, 1] : b;
  if (node && a.length > 0 && b.length > 0) {
    const k1 = a2[a2.length - 1];
    const k2 = b2[b2.length - 2];
    if (typeof k1 === 'number' && typeof k2 === 'number' && k1 !== k2) {
      refuseShape(node, 'matmul-inner-dim', `inner dimensions differ: A's last dim is ${k1}, B's ${b.length === 1 ? 'only' : 'second-to-last'} dim is ${k2}`, {
        expected: `K = ${k1}`,
        actual: `A ${describeOperand(node, operands[0], a)}, B ${describeOperand(node, operands[1], b)}`,
      });
    }
    // The batch dims (all but the last two), read in place.
    const batchA = Math.max(a2.length - 2, 0);
    const batchB = Math.max(b2.length - 2, 0);
    const rank = Math.max(batchA, batchB);
    for (let d = 1; d <= rank; d++) {
      const x = d <= batchA ? a2[batchA - d] : undefined;
      const y = d <= batchB ? b2[batchB - d] : undefined;
      if (typeof x !== 'number' || typeof y !== 'number' || x === 1 || y === 1 || x === y) continue;
      refuseShape(node, 'broadcast-shapes', `the batch dims of A ${describeOperand(node, operands[0], a)} and B ${describeOperand(node, operands[1], b)} cannot be broadcast: they differ on batch dim ${-d} (${x} and ${y}, neither 1)`, {
        expected: 'batch dims (all but the last two) equal or 1 on each axis (numpy broadcasting)',
        actual: `A ${describeOperand(node, operands[0], a)}, B ${describeOperand(node, operands[1], b)}`,
      });
    }
  }
  // broadcastShapesOrUnknownDims of the batch dims, written straight into the result.
  const batchA = Math.max(a2.length - 2, 0);
  const batchB = Math.max(b2.length - 2, 0);
  const rank = Math.max(batchA, batchB);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const x = i < rank - batchA ? 1 : a2[i - (rank - batchA)]!;
    const y = i < rank - batchB ? 1 : b2[i - (rank - batchB)]!;
    out.push(broadcastDim(x, y) ?? null);
  }
  if (a.length > 1) out.push(a2[a2.length - 2]!);
  if (b.length > 1) out.push(b2[b2.length - 1]!);
  return out;
}

interface MatmulOperands {
  a: ArrayLike<number>;
  aShape: readonly number[];
  b: ArrayLike<number>;
  bShape: readonly number[];
  aZero?: (row: number) => number;
  bZero?: (column: number) => number;
}

/** B's `k x n` block at `base` as `n` rows of `k` (column j minus `bZero(j)`), in float64. */
function transposedColumns(b: ArrayLike<number>, base: number, k: number, n: number, bZero?: (column: number) => number): Float64Array {
  const columns = new Float64Array(n * k);
  for (let j = 0; j < n; j++) {
    const zero = bZero ? bZero(j) : 0;
    for (let p = 0; p < k; p++) columns[j * k + p] = b[base + p * n + j]! - zero;
  }
  return columns;
}

/** numpy matmul over numbers; returns the output shape and float64 accumulators. */
export function matmul(node: Node, op: MatmulOperands): { shape: number[]; values: Float64Array } {
  const aShape = op.aShape.length === 1 ? [1, op.aShape[0]!] : op.aShape;
  const bShape = op.bShape.length === 1 ? [op.bShape[0]!, 1] : op.bShape;
  const [m, k] = [aShape[aShape.length - 2]!, aShape[aShape.length - 1]!];
  const [k2, n] = [bShape[bShape.length - 2]!, bShape[bShape.length - 1]!];
  if (k !== k2) throw opError(node, `inner dimensions differ: [${op.aShape.join(',')}] x [${op.bShape.join(',')}]`);
  const batch = broadcastStaticShapes([aShape.slice(0, -2), bShape.slice(0, -2)], node);
  const batchCount = sizeOf(batch);
  const aBatch = broadcastIndexMap(aShape.slice(0, -2), batch);
  const bBatch = broadcastIndexMap(bShape.slice(0, -2), batch);
  const out = new Float64Array(batchCount * m * n);
  // A's rows and B's columns as float64 rows (zero points subtracted), so every output is a dot
  // product accumulated from +0 with p ascending, as `sum += (a - aZero) * (b - bZero)`.
  const aRows = new Map<number, Float64Array>();
  const bColumns = new Map<number, Float64Array>();
  for (let t = 0; t < batchCount; t++) {
    const aIndex = aBatch[t]!;
    const bIndex = bBatch[t]!;
    let rows = aRows.get(aIndex);
    if (!rows) {
      rows = new Float64Array(m * k);
      const aBase = aIndex * m * k;
      for (let i = 0; i < m; i++) {
        const aZero = op.aZero ? op.aZero(i) : 0;
        for (let p = 0; p < k; p++) rows[i * k + p] = op.a[aBase + i * k + p]! - aZero;
      }
      aRows.set(aIndex, rows);
    }
    let columns = bColumns.get(bIndex);
    if (!columns) {
      columns = transposedColumns(op.b, bIndex * k * n, k, n, op.bZero);
      bColumns.set(bIndex, columns);
    }
    dotProducts(rows, m, k, columns, 0, n, out, t * m * n, 1, n);
  }
  const shape = [...batch];
  if (op.aShape.length > 1) shape.push(m);
  if (op.bShape.length > 1) shape.push(n);
  return { shape, values: out };
}

export const matMulOp = defineCanonicalOp({
  op: 'onnx.MatMul',
  summary: 'Matrix product with numpy semantics (batch broadcasting, 1-D promotion)',
  inputs: [{ name: 'A' }, { name: 'B' }],
  outputs: [{ name: 'Y' }],
  verify: verifyMatMul,
  inferTypes(context) {
    const dtype = inputTensorType(context, 0)?.dtype;
    const a = inputShape(context, 0);
    const b = inputShape(context, 1);
    return [typeOf(dtype, a && b ? matmulDims(a, b, context.node) : null)];
  },
  kernel(inputs, { node }) {
    const a = inputTensor(inputs, 0, node);
    const b = inputTensor(inputs, 1, node);
    const result = matmul(node, { a: viewNumbers(a), aShape: a.shape, b: viewNumbers(b), bShape: b.shape });
    return [tensorFromNumbers(a.dtype, result.shape, result.values)];
  },
});

export const gemmOp = defineCanonicalOp({
  op: 'onnx.Gemm',
  summary: 'Y = alpha * op(A) * op(B) + beta * C, op = optional transpose, C broadcast to (M, N)',
  inputs: [{ name: 'A' }, { name: 'B' }, { name: 'C', optional: true }],
  outputs: [{ name: 'Y' }],
  attributes: {
    alpha: { kind: 'float', default: 1 },
    beta: { kind: 'float', default: 1 },
    transA: { kind: 'int', default: 0, oneOf: [0, 1] },
    transB: { kind: 'int', default: 0, oneOf: [0, 1] },
    broadcast: { kind: 'int', default: 0 },
  },
  verify: verifyGemm,
  inferTypes(context) {
    const dtype = inputTensorType(context, 0)?.dtype;
    const a = inputShape(context, 0);
    const b = inputShape(context, 1);
    // A typed operand that is not a matrix: refused as the verifier's gemm-rank would (ONNX Runtime refuses it at load).
    for (const [index, shape] of [[0, a], [1, b]] as const)
      if (shape && shape.length !== 2)
        refuseShape(context.node, 'gemm-rank', `${index === 0 ? 'A' : 'B'} '${context.node.inputs[index]!.name}' has rank ${shape.length}`, { expected: 'a matrix (rank 2)', actual: `rank ${shape.length} [${shape.join(',')}]` });
    if (!a || !b) return [typeOf(dtype, [null, null])];
    const transA = context.node.attr('transA', 'int', 0) === 1;
    const transB = context.node.attr('transB', 'int', 0) === 1;
    const m = transA ? a[1]! : a[0]!;
    const n = transB ? b[0]! : b[1]!;
    // Shapes known once inference has typed the operands (a Flatten's output): refused as the verifier would.
    const [kA, kB] = [transA ? a[0] : a[1], transB ? b[1] : b[0]];
    if (typeof kA === 'number' && typeof kB === 'number' && kA !== kB)
      refuseShape(context.node, 'gemm-inner-dim', `inner dimensions differ: A '${context.node.inputs[0]!.name}' [${a.join(',')}] gives K = ${kA}${transA ? ' (transA)' : ''}, B '${context.node.inputs[1]!.name}' [${b.join(',')}] gives K = ${kB}${transB ? ' (transB)' : ''}`, { expected: `equal K`, hint: 'check transA/transB against how the weight is stored' });
    const c = context.node.inputs[2] ? inputShape(context, 2) : undefined;
    if (c && (c.length > 2 || c.some((dim, i) => { const want = [m, n][i + 2 - c.length]; return typeof dim === 'number' && dim !== 1 && typeof want === 'number' && dim !== want; })))
      refuseShape(context.node, 'gemm-c-broadcast', `C '${context.node.inputs[2]!.name}' [${c.join(',')}] does not broadcast to Y [${m},${n}]`, { expected: 'C of rank 0 to 2 whose dims are 1 or those of [M, N], aligned at the last dim' });
    return [typeOf(dtype, [m, n])];
  },
  kernel(inputs, { node }) {
    const a = inputTensor(inputs, 0, node);
    const b = inputTensor(inputs, 1, node);
    const c = optionalInputTensor(inputs, 2, node);
    const transA = node.attr('transA', 'int', 0) === 1;
    const transB = node.attr('transB', 'int', 0) === 1;
    const alpha = node.attr('alpha', 'float', 1);
    const beta = node.attr('beta', 'float', 1);
    if (a.rank !== 2 || b.rank !== 2) throw opError(node, 'A and B must be 2-D', { actual: `[${a.shape}] and [${b.shape}]` });
    const [m, k] = transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
    const [k2, n] = transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
    if (k !== k2) throw opError(node, `inner dimensions differ: ${k} and ${k2}`);
    const av = viewNumbers(a);
    const bv = viewNumbers(b);
    const cv = c ? viewNumbers(c) : undefined;
    const cMap = c ? broadcastIndexMap(c.shape, [m, n]) : undefined;
    // op(A) as m rows of k and op(B) as n rows of k, so each sum is one dot product (p ascending).
    const rows = new Float64Array(m * k);
    for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) rows[i * k + p] = av[transA ? p * m + i : i * k + p]!;
    const columns = new Float64Array(n * k);
    for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) columns[j * k + p] = bv[transB ? j * k + p : p * n + j]!;
    const out = new Float64Array(m * n);
    dotProducts(rows, m, k, columns, 0, n, out, 0, 1, n);
    for (let i = 0; i < m * n; i++) out[i] = alpha * out[i]! + (cv ? beta * cv[cMap![i]!]! : 0);
    return [tensorFromNumbers(a.dtype, [m, n], out)];
  },
});

/** A zero point along one axis: a scalar, or one value per row (A) / column (B). */
function zeroAlong(zero: Tensor | undefined): ((index: number) => number) | undefined {
  if (!zero) return undefined;
  const values = viewNumbers(zero);
  return values.length === 1 ? () => values[0]! : (i) => values[i]!;
}

export const matMulIntegerOp = defineCanonicalOp({
  op: 'onnx.MatMulInteger',
  summary: 'Integer matmul with zero points, accumulating exactly into int32',
  inputs: [{ name: 'A' }, { name: 'B' }, { name: 'a_zero_point', optional: true }, { name: 'b_zero_point', optional: true }],
  outputs: [{ name: 'Y' }],
  inferTypes(context) {
    const a = inputShape(context, 0);
    const b = inputShape(context, 1);
    return [tensorType('int32', a && b ? matmulDims(a, b) : null)];
  },
  kernel(inputs, { node }) {
    const a = inputTensor(inputs, 0, node);
    const b = inputTensor(inputs, 1, node);
    const aZero = zeroAlong(optionalInputTensor(inputs, 2, node));
    const bZero = zeroAlong(optionalInputTensor(inputs, 3, node));
    const result = matmul(node, { a: viewNumbers(a), aShape: a.shape, b: viewNumbers(b), bShape: b.shape, ...(aZero ? { aZero } : {}), ...(bZero ? { bZero } : {}) });
    return [tensorFromNumbers('int32', result.shape, result.values)];
  },
});

export const qlinearMatMulOp = defineCanonicalOp({
  op: 'onnx.QLinearMatMul',
  summary: 'Quantized matmul: integer accumulation, then requantization to y_scale/y_zero_point',
  inputs: [
    { name: 'a' },
    { name: 'a_scale' },
    { name: 'a_zero_point' },
    { name: 'b' },
    { name: 'b_scale' },
    { name: 'b_zero_point' },
    { name: 'y_scale' },
    { name: 'y_zero_point' },
  ],
  outputs: [{ name: 'y' }],
  inferTypes(context) {
    const a = inputShape(context, 0);
    const b = inputShape(context, 3);
    const dtype = inputTensorType(context, 7)?.dtype;
    return [typeOf(dtype, a && b ? matmulDims(a, b) : null)];
  },
  kernel(inputs, { node }) {
    const a = inputTensor(inputs, 0, node);
    const b = inputTensor(inputs, 3, node);
    const result = matmul(node, {
      a: viewNumbers(a),
      aShape: a.shape,
      b: viewNumbers(b),
      bShape: b.shape,
      aZero: zeroAlong(inputTensor(inputs, 2, node))!,
      bZero: zeroAlong(inputTensor(inputs, 5, node))!,
    });
    const aScale = viewNumbers(inputTensor(inputs, 1, node));
    const bScale = viewNumbers(inputTensor(inputs, 4, node));
    const yScale = viewNumbers(inputTensor(inputs, 6, node))[0]!;
    const yZeroT = inputTensor(inputs, 7, node);
    const n = result.shape[result.shape.length - 1]!;
    const columns = b.rank > 1 ? n : 1;
    const scaleAt = (i: number) => Math.fround(Math.fround(aScale[0]! * bScale[bScale.length === 1 ? 0 : i % columns]!) / yScale);
    return [requantize(yZeroT.dtype, result.shape, result.values, scaleAt, viewNumbers(yZeroT)[0]!)];
  },
});

export const matmulOps = [matMulOp, gemmOp, matMulIntegerOp, qlinearMatMulOp];

