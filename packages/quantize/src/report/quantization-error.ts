/**
 * Streaming error of a quantized tensor against its float original: SQNR in dB
 * (`10·log10(Σf² / Σ(f − q)²)`, Infinity when exact) and cosine similarity, accumulated batch by
 * batch so a report never holds more than one batch of activations.
 */
export class QuantizationErrorAccumulator {
  private signal = 0;
  private noise = 0;
  private dot = 0;
  private approxEnergy = 0;
  private count = 0;

  add(exact: ArrayLike<number>, approx: ArrayLike<number>): void {
    if (exact.length !== approx.length) throw new RangeError(`quantization error: ${exact.length} float values against ${approx.length} quantized ones`);
    for (let i = 0; i < exact.length; i++) {
      const f = exact[i]!;
      const q = approx[i]!;
      if (!Number.isFinite(f) || !Number.isFinite(q)) continue;
      this.signal += f * f;
      this.noise += (f - q) * (f - q);
      this.dot += f * q;
      this.approxEnergy += q * q;
      this.count++;
    }
  }

  get elements(): number {
    return this.count;
  }

  /** SQNR in dB; Infinity when the quantized values are exact, -Infinity for an all-zero original with error. */
  get sqnrDb(): number {
    if (this.noise === 0) return Infinity;
    return 10 * Math.log10(this.signal / this.noise);
  }

  /** Cosine similarity; 1 when both are all zero. */
  get cosine(): number {
    if (this.signal === 0 && this.approxEnergy === 0) return 1;
    if (this.signal === 0 || this.approxEnergy === 0) return 0;
    return this.dot / Math.sqrt(this.signal * this.approxEnergy);
  }
}

/** A number for JSON: Infinity becomes the string "Infinity" (JSON has no infinities). */
export function jsonNumber(value: number): number | string {
  return Number.isFinite(value) ? Number(value.toPrecision(6)) : String(value);
}
