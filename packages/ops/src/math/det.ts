import { tensorType } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { readNumbers, tensorFromElements } from '../util/elements.js';
import { inputTensorType } from '../util/inference.js';
import { inputTensor, opError } from '../util/kernel-io.js';
import { sizeOf } from '../util/shape.js';

/** Determinant of the n×n matrix at `offset` of `data`, by LU decomposition with partial pivoting (float64). */
export function determinant(data: ArrayLike<number>, offset: number, n: number): number {
  const a = Float64Array.from({ length: n * n }, (_, i) => data[offset + i]!);
  let det = 1;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++) if (Math.abs(a[row * n + col]!) > Math.abs(a[pivot * n + col]!)) pivot = row;
    const p = a[pivot * n + col]!;
    if (p === 0) return 0;
    if (pivot !== col) {
      for (let k = 0; k < n; k++) [a[col * n + k], a[pivot * n + k]] = [a[pivot * n + k]!, a[col * n + k]!];
      det = -det;
    }
    det *= p;
    for (let row = col + 1; row < n; row++) {
      const factor = a[row * n + col]! / p;
      for (let k = col; k < n; k++) a[row * n + k]! -= factor * a[col * n + k]!;
    }
  }
  return det;
}

export const det = defineCanonicalOp({
  op: 'onnx.Det',
  summary: 'Determinants of the square matrices in the last two axes ([*, M, M] → [*])',
  inputs: [{ name: 'X' }],
  outputs: [{ name: 'Y' }],
  inferTypes(context) {
    const x = inputTensorType(context, 0);
    if (!x) return [undefined];
    return [tensorType(x.dtype, x.shape && x.shape.length >= 2 ? x.shape.slice(0, -2) : null)];
  },
  kernel(inputs, context) {
    const x = inputTensor(inputs, 0, context);
    const n = x.shape[x.rank - 1];
    if (x.rank < 2 || n !== x.shape[x.rank - 2]) throw opError(context.node, 'input must hold square matrices in its last two axes', { actual: `[${x.shape.join(',')}]` });
    const data = readNumbers(x);
    const out = new Float64Array(sizeOf(x.shape, 0, x.rank - 2));
    for (let b = 0; b < out.length; b++) out[b] = n === 0 ? 1 : determinant(data, b * n * n, n);
    return [tensorFromElements(x.dtype, x.shape.slice(0, -2), out)];
  },
});
