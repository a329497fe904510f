/**
 * A model zoo through one pipeline: one `convert` job per model, every outcome reported (the
 * output and its size, or the error's message). Outputs are written whole or not at all.
 */
import { dirname, extname, relative, resolve, sep } from 'node:path';
import type { JobBackend } from './backend.js';
import type { ConvertReadOptions } from './job-types.js';

export interface BatchItem {
  readonly input: string;
  readonly output: string;
}

export interface BatchOutcome extends BatchItem {
  readonly ok: boolean;
  /** The error's message when it failed (a failed job's too: a worker that died twice, a timeout). */
  readonly error?: string;
  readonly bytes?: number;
  readonly nodesBefore?: number;
  readonly nodesAfter?: number;
  readonly warnings?: readonly string[];
  readonly seconds?: number;
  readonly worker?: string;
}

/** The deepest folder holding every one of `paths` (absolute paths). */
function commonFolder(paths: readonly string[]): string {
  let common = dirname(paths[0]!);
  for (const path of paths) {
    while (common !== dirname(common) && !(path === common || path.startsWith(common.endsWith(sep) ? common : common + sep))) common = dirname(common);
  }
  return common;
}

/**
 * Output paths in `folder`, one per input, at the input's path relative to the inputs' common
 * folder (`zoo/a.onnx` → `folder/a.onnx`; `zoo/cnn/model.onnx` and `zoo/mlp/model.onnx` →
 * `folder/cnn/model.onnx`, `folder/mlp/model.onnx`); `extension` replaces the input's. An input
 * named twice is converted once.
 */
export function batchOutputs(inputs: readonly string[], folder: string, extension?: string): BatchItem[] {
  const unique = [...new Set(inputs.map((input) => resolve(input)))];
  if (unique.length === 0) return [];
  const base = commonFolder(unique);
  return unique.map((input) => {
    const relativePath = relative(base, input);
    const renamed = extension === undefined ? relativePath : relativePath.slice(0, relativePath.length - extname(relativePath).length) + extension;
    return { input, output: resolve(folder, renamed) };
  });
}

export async function convertBatch(
  backend: JobBackend,
  items: readonly BatchItem[],
  pipeline: string,
  onSettled?: (outcome: BatchOutcome, index: number) => void,
  /** How every model is read (input shapes and dtypes), carried by each job to its worker. */
  read?: ConvertReadOptions,
): Promise<BatchOutcome[]> {
  const outcomes: BatchOutcome[] = [];
  const results = await backend.run(items.map((item) => ({ kind: 'convert' as const, data: { ...item, pipeline, ...(read ? { read } : {}) } })), {
    onSettled: (index, outcome) => {
      const item = items[index]!;
      const converted: BatchOutcome = !outcome.ok
        ? { ...item, ok: false, error: outcome.error }
        : outcome.result.ok
          ? { ...item, ok: true, bytes: outcome.result.bytes, nodesBefore: outcome.result.nodesBefore, nodesAfter: outcome.result.nodesAfter, warnings: outcome.result.warnings, seconds: outcome.result.seconds, worker: outcome.worker }
          : { ...item, ok: false, error: outcome.result.error, seconds: outcome.result.seconds, worker: outcome.worker };
      outcomes[index] = converted;
      onSettled?.(converted, index);
    },
  });
  return results.map((_, index) => outcomes[index]!);
}
