import { tfliteError } from '../io/errors.js';

/** Resource limits of the TFLite reader: a hostile or broken file fails clearly instead of exhausting the process. */
export interface TfliteReadLimits {
  /** Largest tensor (bytes, as its type and shape say) accepted, dense or densified (default 64 GiB). */
  readonly maxTensorBytes?: number;
  /**
   * Largest variable tensor (bytes): variables have no data in the file, so the reader allocates their
   * zeros; a tiny file must not claim gigabytes of state (default 256 MiB).
   */
  readonly maxVariableBytes?: number;
  /**
   * Largest metadata entry (bytes): metadata is read whole when the file is opened (kept base64 in the
   * model's metadata), so a sparse file must not make it read gigabytes (default 64 MiB).
   */
  readonly maxMetadataBytes?: number;
  /** Largest custom options of one CUSTOM operator (bytes), read at open like metadata (default 64 MiB). */
  readonly maxCustomOptionsBytes?: number;
  /** Most operators, over every subgraph (default 10,000,000). */
  readonly maxNodeCount?: number;
  /**
   * Each operator that calls a subgraph (IF, WHILE, CALL_ONCE, …) gets its own copy of it, so a small
   * file whose subgraphs call the next one twice expands exponentially: the operators imported may be
   * at most this many times the file's own (or 20,000, whichever is more) (default 64).
   */
  readonly maxRegionExpansion?: number;
  /** Deepest nesting of subgraphs inside operators (IF, WHILE, …) (default 100). */
  readonly maxNestingDepth?: number;
}

export type ResolvedTfliteReadLimits = Required<TfliteReadLimits>;

/** Operators a file may always expand to through its subgraph calls, whatever maxRegionExpansion says. */
export const REGION_EXPANSION_FLOOR = 20_000;

export const DEFAULT_TFLITE_READ_LIMITS: ResolvedTfliteReadLimits = Object.freeze({
  maxTensorBytes: 64 * 2 ** 30,
  maxVariableBytes: 256 * 2 ** 20,
  maxMetadataBytes: 64 * 2 ** 20,
  maxCustomOptionsBytes: 64 * 2 ** 20,
  maxNodeCount: 10_000_000,
  maxRegionExpansion: 64,
  maxNestingDepth: 100,
});

export function resolveTfliteReadLimits(limits: TfliteReadLimits | undefined, file: string): ResolvedTfliteReadLimits {
  const resolved = { ...DEFAULT_TFLITE_READ_LIMITS };
  for (const name of Object.keys(DEFAULT_TFLITE_READ_LIMITS) as (keyof TfliteReadLimits)[]) {
    const value = limits?.[name];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw tfliteError({ reason: `invalid reader limit '${name}'`, location: { file }, expected: 'a positive integer', actual: String(value) });
    }
    resolved[name] = value;
  }
  return resolved;
}

export function tfliteLimitExceeded(name: keyof TfliteReadLimits, what: string, actual: number, limit: number, file: string) {
  return tfliteError({
    reason: `${what} is over the TFLite reader's ${name} limit`,
    location: { file },
    expected: `at most ${limit}`,
    actual: String(actual),
    hint: `if the file is trusted, raise the limit: readTflite(path, { limits: { ${name}: ${Math.max(limit * 2, actual)} } })`,
    code: `tflite/read-limit/${name}`,
  });
}
