import type { Location } from '@modelpass/ir';
import { onnxError } from '../errors.js';

/** Resource limits of the ONNX reader: a hostile or broken file fails with a clear error instead of exhausting the process. */
export interface OnnxReadLimits {
  /** Largest tensor (bytes, as its dtype and dims say) accepted, in memory or in a file (default 64 GiB). */
  readonly maxTensorBytes?: number;
  /** Deepest nesting accepted: protobuf messages inside messages, and subgraphs inside subgraphs (default 100, protobuf's own default). */
  readonly maxNestingDepth?: number;
  /** Most nodes accepted, counted over the main graph, every subgraph and every function (default 10,000,000). */
  readonly maxNodeCount?: number;
}

export type ResolvedReadLimits = Required<OnnxReadLimits>;

export const DEFAULT_READ_LIMITS: ResolvedReadLimits = Object.freeze({
  maxTensorBytes: 64 * 2 ** 30,
  maxNestingDepth: 100,
  maxNodeCount: 10_000_000,
});

/** The limits with defaults filled in; each given one must be a positive integer. */
export function resolveReadLimits(limits: OnnxReadLimits | undefined, location: Location | undefined): ResolvedReadLimits {
  const resolved = { ...DEFAULT_READ_LIMITS };
  for (const name of Object.keys(DEFAULT_READ_LIMITS) as (keyof OnnxReadLimits)[]) {
    const value = limits?.[name];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw onnxError({ reason: `invalid reader limit '${name}'`, location, expected: 'a positive integer', actual: String(value) });
    }
    resolved[name] = value;
  }
  return resolved;
}

/** The error for input past one of the limits, saying how to raise it. */
export function limitExceeded(name: keyof OnnxReadLimits, what: string, actual: number, limit: number, location: Location | undefined) {
  return onnxError({
    reason: `${what} is over the ONNX reader's ${name} limit`,
    location,
    expected: `at most ${limit}`,
    actual: String(actual),
    hint: `if the file is trusted, raise the limit: readOnnx(path, { limits: { ${name}: ${Math.max(limit * 2, actual)} } })`,
    code: `onnx/read-limit/${name}`,
  });
}
