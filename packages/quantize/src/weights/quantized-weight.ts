/**
 * A weight quantized in groups along its reduction axis K: for output feature n and group g,
 * `w[k][n] ≈ (code[n][k] - zeroPoint[n][g]) · scale[n][g]` with unsigned codes of `bits` bits.
 * Per-channel quantization is the case of one group spanning all of K.
 */

export interface GroupQuantizationScheme {
  readonly bits: 4 | 8;
  /** Elements of K sharing a scale (K itself for per-channel). */
  readonly groupSize: number;
  /** Zero point fixed at the middle code (2^(bits-1)) and scale from the largest magnitude. */
  readonly symmetric: boolean;
}

export class QuantizedWeight {
  readonly groups: number;
  /** Unsigned codes, one per byte, `[n][groups · groupSize]`; padding past K holds the zero point. */
  readonly codes: Uint8Array;
  /** `[n][groups]`, float32 values. */
  readonly scales: Float32Array;
  /** `[n][groups]`: integers unless `fractionalZeroPoints`. */
  readonly zeroPoints: Float32Array;
  /** True when a method (HQQ) chose zero points that are not integers. */
  fractionalZeroPoints = false;

  constructor(
    readonly k: number,
    readonly n: number,
    readonly scheme: GroupQuantizationScheme,
  ) {
    this.groups = Math.ceil(k / scheme.groupSize);
    this.codes = new Uint8Array(n * this.groups * scheme.groupSize);
    this.scales = new Float32Array(n * this.groups);
    this.zeroPoints = new Float32Array(n * this.groups);
  }

  get maxCode(): number {
    return (1 << this.scheme.bits) - 1;
  }

  /** Offset of code (n, k) in `codes`. */
  codeIndex(n: number, k: number): number {
    return n * this.groups * this.scheme.groupSize + k;
  }

  /** The dequantized value of element (k, n). */
  dequantized(k: number, n: number): number {
    const group = n * this.groups + Math.floor(k / this.scheme.groupSize);
    return Math.fround((this.codes[this.codeIndex(n, k)]! - this.zeroPoints[group]!) * this.scales[group]!);
  }

  /** Fills the padding past K with each group's zero point (so padded elements dequantize to 0). */
  padWithZeroPoints(): void {
    const padded = this.groups * this.scheme.groupSize;
    if (padded === this.k) return;
    for (let n = 0; n < this.n; n++) {
      const zero = Math.round(this.zeroPoints[n * this.groups + this.groups - 1]!);
      this.codes.fill(Math.max(0, Math.min(this.maxCode, zero)), this.codeIndex(n, this.k), this.codeIndex(n, padded));
    }
  }
}
