/** Small dense symmetric-matrix routines GPTQ needs (row-major Float64Array, n×n). */

/** The lower Cholesky factor L of a symmetric positive definite `a` (a = L·Lᵀ), or undefined when `a` is not. */
export function choleskyLower(a: Float64Array, n: number): Float64Array | undefined {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const rowI = i * n;
    for (let j = 0; j <= i; j++) {
      const rowJ = j * n;
      let sum = a[rowI + j]!;
      for (let k = 0; k < j; k++) sum -= l[rowI + k]! * l[rowJ + k]!;
      if (i === j) {
        if (!(sum > 0)) return undefined;
        l[rowI + i] = Math.sqrt(sum);
      } else {
        l[rowI + j] = sum / l[rowJ + j]!;
      }
    }
  }
  return l;
}

/** a⁻¹ from the lower Cholesky factor of a: (L⁻¹)ᵀ·L⁻¹. */
export function inverseFromCholesky(l: Float64Array, n: number): Float64Array {
  const inv = new Float64Array(n * n); // L⁻¹, lower triangular
  for (let j = 0; j < n; j++) {
    inv[j * n + j] = 1 / l[j * n + j]!;
    for (let i = j + 1; i < n; i++) {
      let sum = 0;
      for (let k = j; k < i; k++) sum -= l[i * n + k]! * inv[k * n + j]!;
      inv[i * n + j] = sum / l[i * n + i]!;
    }
  }
  const result = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let k = i; k < n; k++) sum += inv[k * n + i]! * inv[k * n + j]!;
      result[i * n + j] = sum;
      result[j * n + i] = sum;
    }
  }
  return result;
}

/** The upper Cholesky factor U of `a` (a = Uᵀ·U), or undefined when `a` is not positive definite. */
export function choleskyUpper(a: Float64Array, n: number): Float64Array | undefined {
  const l = choleskyLower(a, n);
  if (!l) return undefined;
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) u[j * n + i] = l[i * n + j]!;
  return u;
}
