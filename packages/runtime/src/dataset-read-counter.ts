/**
 * What dataset readers took from disk, counted per file inside one async scope
 * (`countDatasetReads(body)`): bytes read, samples decoded, samples passed over. Distributed shards
 * report it, so a test (or a bench) can check that a shard read only its own range — by counting,
 * not by timing. Outside a scope nothing is counted.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface FileReads {
  /** Bytes read from the file (compressed bytes for a gzipped file; headers included). */
  bytes: number;
  /** Samples (or labels) decoded from the file. */
  samples: number;
  /** Samples passed over before the range: sought past (no bytes) or, in a gzip stream, decompressed and dropped. */
  skipped: number;
}

/** File path → what was read from it. */
export type DatasetReads = Record<string, FileReads>;

const scope = new AsyncLocalStorage<DatasetReads>();

/** Runs `body`, counting every dataset file read inside it (nested scopes count separately). */
export async function countDatasetReads<T>(body: () => Promise<T>): Promise<{ readonly value: T; readonly reads: DatasetReads }> {
  const reads: DatasetReads = {};
  const value = await scope.run(reads, body);
  return { value, reads };
}

/** Adds to the current scope's count of `file` (no-op outside a scope). */
export function recordDatasetRead(file: string, counts: Partial<FileReads>): void {
  const reads = scope.getStore();
  if (!reads) return;
  const entry = (reads[file] ??= { bytes: 0, samples: 0, skipped: 0 });
  entry.bytes += counts.bytes ?? 0;
  entry.samples += counts.samples ?? 0;
  entry.skipped += counts.skipped ?? 0;
}
