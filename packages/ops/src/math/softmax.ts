import { type Tensor } from '@modelpass/ir';
import { defineCanonicalOp, type CanonicalOp, type KernelContext } from '../op-definition.js';
import { allocateElements, readElements, tensorFromElements } from '../util/elements.js';
import { sameAsInput } from '../util/inference.js';
import { inputTensor, opError } from '../util/kernel-io.js';
import { normalizeAxis, sizeOf } from '../util/shape.js';
import { elementClassOf } from './element-class.js';
import { cumSum } from './cumulative.js';
import { verifyAxisAttribute } from '../verify/attribute-range-checks.js';

/** Writes the normalized row `values` (read from `row`) into `out` (same positions). */
type RowFunction = (row: Float64Array) => Float64Array;

const softmaxRow: RowFunction = (row) => {
  let max = -Infinity;
  for (const v of row) if (v > max) max = v;
  const out = new Float64Array(row.length);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += out[i] = Math.exp(row[i]! - max);
  for (let i = 0; i < row.length; i++) out[i]! /= sum;
  return out;
};

const logSoftmaxRow: RowFunction = (row) => {
  let max = -Infinity;
  for (const v of row) if (v > max) max = v;
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  const logSum = Math.log(sum);
  return row.map((v) => v - max - logSum);
};

const hardmaxRow: RowFunction = (row) => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  const out = new Float64Array(row.length);
  if (row.length > 0) out[best] = 1;
  return out;
};

/**
 * Applies a row function along an axis. Before opset 13 the input is coerced to 2D
 * `[prod(shape[:axis]), prod(shape[axis:])]` and rows are the second dim (default axis 1);
 * from 13 on, rows run along `axis` alone (default -1).
 */
function applyRows(x: Tensor, context: KernelContext, rowFunction: RowFunction): Tensor {
  if (elementClassOf(x.dtype) !== 'float') throw opError(context.node, `has no reference kernel for element type ${x.dtype}`);
  const legacy = context.opset < 13;
  const axis = normalizeAxis(context.node.attr('axis', 'int', legacy ? 1 : -1), Math.max(x.rank, 1), context.node);
  const outer = sizeOf(x.shape, 0, axis);
  const length = legacy ? sizeOf(x.shape, axis) : (x.shape[axis] ?? 1);
  const inner = legacy ? 1 : sizeOf(x.shape, axis + 1);
  const data = readElements(x) as Float32Array | Float64Array;
  const out = allocateElements(x.dtype, x.size) as Float32Array | Float64Array;
  const row = new Float64Array(length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      for (let k = 0; k < length; k++) row[k] = data[(o * length + k) * inner + i]!;
      const result = rowFunction(row);
      for (let k = 0; k < length; k++) out[(o * length + k) * inner + i] = result[k]!;
    }
  }
  return tensorFromElements(x.dtype, x.shape, out);
}

function defineRowOp(opType: string, summary: string, rowFunction: RowFunction): CanonicalOp {
  return defineCanonicalOp({
    op: `onnx.${opType}`,
    summary,
    inputs: [{ name: 'input' }],
    outputs: [{ name: 'output' }],
    attributes: { axis: { kind: 'int', doc: 'default 1 before opset 13 (2D coercion), -1 from 13 (one axis)' } },
    verify: verifyAxisAttribute((opset) => (opset !== undefined && opset < 13 ? 1 : -1)),
    inferTypes: sameAsInput(0),
    kernel: (inputs, context) => [applyRows(inputTensor(inputs, 0, context), context, rowFunction)],
  });
}

export const softmax = defineRowOp('Softmax', 'exp(x) / sum(exp(x)) along an axis', softmaxRow);
export const logSoftmax = defineRowOp('LogSoftmax', 'log(softmax(x)) along an axis', logSoftmaxRow);
export const hardmax = defineRowOp('Hardmax', '1 at the first maximum along an axis, 0 elsewhere', hardmaxRow);

export const rowOps: readonly CanonicalOp[] = [softmax, logSoftmax, hardmax, cumSum];
