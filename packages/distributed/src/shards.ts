/** Sample ranges of a sharded run: consecutive, whole batches (the last one may be shorter). */
import { distributedError } from './errors.js';

export interface SampleRange {
  readonly start: number;
  readonly end: number;
}

export interface ShardPlanOptions {
  /** How many shards (default 4); fewer when the samples do not fill them with whole batches. */
  readonly shards?: number;
  /** Every shard but the last is a multiple of this many samples (the batch size). */
  readonly align: number;
}

export function planShards(total: number, options: ShardPlanOptions): SampleRange[] {
  const shards = options.shards ?? 4;
  if (!(Number.isInteger(shards) && shards >= 1)) throw distributedError({ reason: `shards is ${shards}`, expected: 'an integer ≥ 1', code: 'distributed/option' });
  if (!(Number.isInteger(total) && total >= 1)) throw distributedError({ reason: `cannot shard ${total} samples`, expected: 'an integer ≥ 1', code: 'distributed/option' });
  const align = Math.max(1, options.align);
  const size = Math.max(align, Math.ceil(Math.ceil(total / shards) / align) * align);
  const ranges: SampleRange[] = [];
  for (let start = 0; start < total; start += size) ranges.push({ start, end: Math.min(total, start + size) });
  return ranges;
}
