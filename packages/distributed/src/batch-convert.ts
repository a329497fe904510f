/**
 * A model zoo through one pipeline: one `convert` job per model, every outcome reported (the
 * output and its size, or the error's message). Outputs are written whole or not at all.
 */
import { basename, extname, join, resolve } from 'node:path';
import type { JobBackend } from './backend.js';
import { distributedError } from './errors.js';

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

/** Output paths in `folder`, one per input, named after it (`a/m.onnx` → `folder/m.onnx`); refuses two inputs with one name. */
export function batchOutputs(inputs: readonly string[], folder: string, extension?: string): BatchItem[] {
  const seen = new Map<string, string>();
  return inputs.map((input) => {
    const name = extension === undefined ? basename(input) : basename(input, extname(input)) + extension;
    const previous = seen.get(name);
    if (previous !== undefined) {
      throw distributedError({ reason: `'${previous}' and '${input}' would both be written to '${join(folder, name)}'`, hint: 'give models with distinct file names, or run one batch per folder', code: 'distributed/batch-names' });
    }
    seen.set(name, input);
    return { input: resolve(input), output: resolve(folder, name) };
  });
}

export async function convertBatch(backend: JobBackend, items: readonly BatchItem[], pipeline: string, onSettled?: (outcome: BatchOutcome, index: number) => void): Promise<BatchOutcome[]> {
  const outcomes: BatchOutcome[] = [];
  const results = await backend.run(items.map((item) => ({ kind: 'convert' as const, data: { ...item, pipeline } })), {
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
