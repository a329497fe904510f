/**
 * Where quantized weights go while a pass runs on a model whose weights live in files (external
 * data): appended to one temporary file and referenced from there as file-range tensors, so the
 * pass holds one weight at a time and the writer streams them out like any external data.
 *
 * The file sits in the OS temporary folder, is registered with `@modelpass/ir`'s temporary-file
 * registry (removed on exit and on SIGINT/SIGTERM/SIGHUP; a `kill -9` leaves it for the next run
 * to clean up), and stays until the process ends, because the model refers to it.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimTemporaryPath, FileRangeStorage, ModelpassError, Tensor, type DType } from '@modelpass/ir';

/** Offsets of spilled tensors are aligned like ONNX external data. */
const ALIGNMENT = 64;

export class SpillFile {
  private fd: number | undefined;
  private path: string | undefined;
  private size = 0;

  constructor(private readonly directory = tmpdir()) {}

  /** A tensor over `bytes`, written to the spill file (the caller may drop `bytes` afterwards). */
  tensor(dtype: DType, shape: readonly number[], bytes: Uint8Array): Tensor {
    if (this.fd === undefined) {
      this.path = claimTemporaryPath(join(this.directory, 'modelpass-quantized-weights'));
      try {
        this.fd = openSync(this.path, 'w', 0o600);
      } catch (cause) {
        throw new ModelpassError({ reason: `cannot create the temporary file for quantized weights in '${this.directory}'`, location: { file: this.path }, cause, source: '@modelpass/quantize' });
      }
    }
    const offset = Math.ceil(this.size / ALIGNMENT) * ALIGNMENT;
    let written = 0;
    while (written < bytes.byteLength) written += writeSync(this.fd, bytes, written, bytes.byteLength - written, offset + written);
    this.size = offset + bytes.byteLength;
    return Tensor.fromStorage(dtype, shape, new FileRangeStorage(this.path!, offset, bytes.byteLength));
  }

  /** Closes the file for writing (its tensors stay readable). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Makes tensors in memory, or in a spill file when one is given. */
export type TensorMaker = (dtype: DType, shape: readonly number[], bytes: Uint8Array) => Tensor;

export function tensorMaker(spill: SpillFile | undefined): TensorMaker {
  return spill ? (dtype, shape, bytes) => spill.tensor(dtype, shape, bytes) : (dtype, shape, bytes) => Tensor.fromBytes(dtype, shape, bytes);
}
