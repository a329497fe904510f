/**
 * Running minimum and maximum of a tensor over calibration batches. Merging two is exact (min of
 * mins, max of maxes, sum of counts), so shards of a calibration run merge to the whole run's
 * values bit for bit. With a moving average (ORT's `moving_average`, `averaging_constant`) the result
 * depends on batch order, so such statistics do not merge.
 */
import { calibrationError, type CalibrationMethod, type TensorRange } from './options.js';

export interface MinMaxStatisticsJSON {
  readonly kind: 'minmax';
  /** null until a finite value was seen. */
  readonly min: number | null;
  readonly max: number | null;
  readonly count: number;
  readonly nonFinite: number;
  readonly movingAverage?: number;
}

/** The finite min and max of `values`, or undefined when none is finite. */
export function finiteExtremes(values: ArrayLike<number>): { min: number; max: number; finite: number } | undefined {
  let min = Infinity;
  let max = -Infinity;
  let nonFinite = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) {
      nonFinite++; // NaN or ±Infinity
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const finite = values.length - nonFinite;
  return finite === 0 ? undefined : { min, max, finite };
}

export class MinMaxStatistics {
  private minimum = Infinity;
  private maximum = -Infinity;
  private seen = 0;
  private skipped = 0;

  /** `movingAverage`: the averaging constant c, each batch moving min/max by c × (batch − current). */
  constructor(readonly movingAverage?: number) {}

  /** Finite values seen. */
  get count(): number {
    return this.seen;
  }

  /** NaN and ±Infinity values skipped. */
  get nonFinite(): number {
    return this.skipped;
  }

  get min(): number {
    return this.minimum;
  }

  get max(): number {
    return this.maximum;
  }

  /** Adds one batch of values. */
  add(values: ArrayLike<number>): this {
    const extremes = finiteExtremes(values);
    return this.addBatchSummary(extremes?.min ?? Infinity, extremes?.max ?? -Infinity, extremes?.finite ?? 0, values.length - (extremes?.finite ?? 0));
  }

  /** Adds one batch given as its finite min, max and count (and its non-finite count), for callers that scan the values themselves. */
  addBatchSummary(min: number, max: number, finite: number, nonFinite: number): this {
    this.skipped += nonFinite;
    if (finite === 0) return this;
    if (this.movingAverage !== undefined && this.seen > 0) {
      const c = this.movingAverage;
      this.minimum += c * (min - this.minimum);
      this.maximum += c * (max - this.maximum);
    } else {
      this.minimum = Math.min(this.minimum, min);
      this.maximum = Math.max(this.maximum, max);
    }
    this.seen += finite;
    return this;
  }

  /** Adds another shard's statistics (exact; refused for moving averages, which depend on order). */
  merge(other: MinMaxStatistics): this {
    if (this.movingAverage !== undefined || other.movingAverage !== undefined) {
      throw calibrationError({
        reason: 'minmax statistics with a moving average depend on batch order and cannot be merged',
        hint: 'calibrate shards with a running min/max (no movingAverage)',
      });
    }
    this.minimum = Math.min(this.minimum, other.minimum);
    this.maximum = Math.max(this.maximum, other.maximum);
    this.seen += other.seen;
    this.skipped += other.skipped;
    return this;
  }

  /** The range seen (`method` can only be `minmax`: other methods need a histogram); a tensor with no finite value has none. */
  range(method: CalibrationMethod = 'minmax'): TensorRange {
    if (method !== 'minmax') throw calibrationError({ reason: `method '${method}' needs histogram statistics, but these were collected for minmax` });
    if (this.seen === 0) throw calibrationError({ reason: 'no finite value was seen, so the tensor has no range' });
    return { min: this.minimum, max: this.maximum };
  }

  toJSON(): MinMaxStatisticsJSON {
    return {
      kind: 'minmax',
      min: this.seen > 0 ? this.minimum : null,
      max: this.seen > 0 ? this.maximum : null,
      count: this.seen,
      nonFinite: this.skipped,
      ...(this.movingAverage !== undefined ? { movingAverage: this.movingAverage } : {}),
    };
  }

  static fromJSON(json: MinMaxStatisticsJSON): MinMaxStatistics {
    const valid =
      json?.kind === 'minmax' &&
      Number.isInteger(json.count) && json.count >= 0 &&
      Number.isInteger(json.nonFinite) && json.nonFinite >= 0 &&
      (json.count === 0 ? json.min === null && json.max === null : Number.isFinite(json.min) && Number.isFinite(json.max) && json.min! <= json.max!);
    if (!valid) throw calibrationError({ reason: 'not minmax statistics JSON', expected: "{ kind: 'minmax', min, max, count, nonFinite }", actual: JSON.stringify(json)?.slice(0, 120) });
    const statistics = new MinMaxStatistics(json.movingAverage);
    if (json.count > 0) {
      statistics.minimum = json.min!;
      statistics.maximum = json.max!;
    }
    statistics.seen = json.count;
    statistics.skipped = json.nonFinite;
    return statistics;
  }
}
