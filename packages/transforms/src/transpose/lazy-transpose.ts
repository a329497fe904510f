import { ComputedStorage, type TensorStorage } from '@modelpass/ir';
import { transposeMatrices } from './transpose-plan.js';

/**
 * A batch of 2-D transposes of a weight still in its file, computed when read: `read()` transposes
 * it whole (once, cached), and `readChunk` — what the writers stream with — reads only the source
 * matrices a chunk covers into reused scratch memory, so converting a model never holds a second
 * copy of its weights (nor touches fresh pages for one).
 */
let sourceScratch = new Uint8Array(0);
let targetScratch = new Uint8Array(0);

function scratch(which: 'source' | 'target', byteLength: number): Uint8Array {
  if (which === 'source') {
    if (sourceScratch.byteLength < byteLength) sourceScratch = new Uint8Array(byteLength);
    return sourceScratch.subarray(0, byteLength);
  }
  if (targetScratch.byteLength < byteLength) targetScratch = new Uint8Array(byteLength);
  return targetScratch.subarray(0, byteLength);
}

type Elements = Uint8Array | Uint16Array | Uint32Array;

function elements(bytes: Uint8Array, width: number): Elements {
  const aligned = bytes.byteOffset % width === 0 ? bytes : new Uint8Array(bytes);
  if (width === 4) return new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
  if (width === 2) return new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2);
  return aligned;
}

/** Whether `transposedInFile` can serve `storage`: a file range (its reads never reenter this module's scratch memory). */
export function canTransposeLazily(storage: TensorStorage | undefined): storage is TensorStorage & { readChunk: NonNullable<TensorStorage['readChunk']> } {
  return storage?.kind === 'file-range' && typeof storage.readChunk === 'function';
}

export function transposedInFile(source: TensorStorage & { readChunk: NonNullable<TensorStorage['readChunk']> }, width: number, batch: number, rows: number, cols: number): ComputedStorage {
  const matrixBytes = rows * cols * width;
  const compute = (): Uint8Array => {
    const out = new Uint8Array(source.byteLength);
    transposeMatrices(elements(source.read(), width), elements(out, width), batch, rows, cols);
    return out;
  };
  const computeChunk = (target: Uint8Array, start: number): void => {
    if (target.byteLength === 0) return;
    const first = Math.floor(start / matrixBytes);
    const last = Math.ceil((start + target.byteLength) / matrixBytes);
    const span = (last - first) * matrixBytes;
    const input = scratch('source', span);
    source.readChunk(input, first * matrixBytes);
    if (start === first * matrixBytes && target.byteLength === span && target.byteOffset % width === 0) {
      // Whole matrices into aligned memory (a writer filling its region): transposed in place, no second copy.
      transposeMatrices(elements(input, width), elements(target, width), last - first, rows, cols);
      return;
    }
    const output = scratch('target', span);
    transposeMatrices(elements(input, width), elements(output, width), last - first, rows, cols);
    const offset = start - first * matrixBytes;
    target.set(output.subarray(offset, offset + target.byteLength));
  };
  return new ComputedStorage(source.byteLength, compute, `transposed(${source.describe()})`, computeChunk);
}
