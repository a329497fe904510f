/**
 * Ridge-regularized least squares in float64, accumulated row by row: the normal equations
 * XᵀX·W = XᵀY are summed without keeping the rows, then solved by Cholesky with λ·I added
 * (λ relative to the mean diagonal of XᵀX, so it does not depend on the scale of the features).
 */
export class NormalEquations {
  readonly xtx: Float64Array;
  readonly xty: Float64Array;
  /** Σ y² per output, for residuals. */
  readonly yy: Float64Array;
  rows = 0;

  constructor(
    readonly features: number,
    readonly outputs: number,
  ) {
    this.xtx = new Float64Array(features * features);
    this.xty = new Float64Array(features * outputs);
    this.yy = new Float64Array(outputs);
  }

  /** Adds one row: features `x` (length `features`), targets `y` (length `outputs`). */
  addRow(x: ArrayLike<number>, y: ArrayLike<number>): void {
    const d = this.features;
    const o = this.outputs;
    for (let i = 0; i < d; i++) {
      const xi = x[i]!;
      if (xi === 0) continue;
      const row = i * d;
      for (let j = i; j < d; j++) this.xtx[row + j] += xi * x[j]!;
      const out = i * o;
      for (let k = 0; k < o; k++) this.xty[out + k] += xi * y[k]!;
    }
    for (let k = 0; k < o; k++) this.yy[k] += y[k]! * y[k]!;
    this.rows++;
  }

  /** The full symmetric XᵀX (only the upper triangle is accumulated). */
  private symmetric(): Float64Array {
    const d = this.features;
    const full = new Float64Array(this.xtx);
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) full[i * d + j] = full[j * d + i]!;
    return full;
  }

  /** W (features × outputs, row-major) minimizing ‖XW − Y‖² + λ‖W‖², λ = ridge · mean(diag XᵀX). */
  solve(ridge: number): Float64Array {
    const d = this.features;
    const a = this.symmetric();
    let trace = 0;
    for (let i = 0; i < d; i++) trace += a[i * d + i]!;
    // A rank-deficient XᵀX (fewer rows than features, dead inputs) with little or no ridge is not
    // positive definite in floating point: raise λ tenfold until it is.
    let lambda = ridge * (trace / Math.max(d, 1)) + 1e-12 * Math.max(1, trace / Math.max(d, 1));
    for (let attempt = 0; ; attempt++) {
      const regularized = new Float64Array(a);
      for (let i = 0; i < d; i++) regularized[i * d + i] += lambda;
      if (choleskyInPlace(regularized, d)) return choleskySolve(regularized, d, this.xty, this.outputs);
      if (attempt === 12) throw new Error(`least squares: the normal matrix (${d}×${d}) is not positive definite even with ridge ${lambda}`);
      lambda = Math.max(lambda * 10, 1e-9);
    }
  }

  /** ‖XW − Y‖² / ‖Y‖² for a solution W (features × outputs). */
  relativeResidual(w: ArrayLike<number>): number {
    const d = this.features;
    const o = this.outputs;
    const a = this.symmetric();
    let residual = 0;
    let total = 0;
    for (let k = 0; k < o; k++) {
      let quadratic = 0;
      let linear = 0;
      for (let i = 0; i < d; i++) {
        const wi = w[i * o + k]!;
        if (wi === 0) continue;
        linear += wi * this.xty[i * o + k]!;
        let row = 0;
        for (let j = 0; j < d; j++) row += a[i * d + j]! * w[j * o + k]!;
        quadratic += wi * row;
      }
      residual += this.yy[k]! - 2 * linear + quadratic;
      total += this.yy[k]!;
    }
    return total > 0 ? Math.max(residual, 0) / total : 0;
  }
}

/** Lower Cholesky factor of a symmetric positive-definite matrix, in place (row-major, lower part); false when it is not positive definite. */
function choleskyInPlace(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let diagonal = a[j * n + j]!;
    for (let k = 0; k < j; k++) diagonal -= a[j * n + k]! * a[j * n + k]!;
    if (!(diagonal > 0)) return false;
    const root = Math.sqrt(diagonal);
    a[j * n + j] = root;
    for (let i = j + 1; i < n; i++) {
      let sum = a[i * n + j]!;
      for (let k = 0; k < j; k++) sum -= a[i * n + k]! * a[j * n + k]!;
      a[i * n + j] = sum / root;
    }
  }
  return true;
}

function choleskySolve(l: Float64Array, n: number, b: Float64Array, columns: number): Float64Array {
  const x = new Float64Array(b);
  for (let c = 0; c < columns; c++) {
    for (let i = 0; i < n; i++) {
      let sum = x[i * columns + c]!;
      for (let k = 0; k < i; k++) sum -= l[i * n + k]! * x[k * columns + c]!;
      x[i * columns + c] = sum / l[i * n + i]!;
    }
    for (let i = n - 1; i >= 0; i--) {
      let sum = x[i * columns + c]!;
      for (let k = i + 1; k < n; k++) sum -= l[k * n + i]! * x[k * columns + c]!;
      x[i * columns + c] = sum / l[i * n + i]!;
    }
  }
  return x;
}
