/**
 * Frees an ArrayBuffer's memory at once, where the engine allows it, instead of when V8 next
 * collects it. A calibration run returns ~2.3 MB of int16 bin indices on fashion-resnet (8 samples,
 * 21 tensors) in a fresh ArrayBuffer that onnxruntime-node allocates and that is garbage as soon as
 * it is counted; 250 such buffers per 2,000 samples either piled up (peak RSS rising with the
 * samples) or were each collected by a minor GC that `YoungGarbage` asked for after every run (s15:
 * 253 collections, ~0.3 ms each, plus fresh pages for every next buffer).
 *
 * `ArrayBuffer.prototype.transfer(0)` (ES2024) detaches the buffer and releases its backing store in
 * the call: every view of it then has length 0. Node 21 and later have it; Node 20's V8 (11.3) has it
 * behind `--harmony-rab-gsab-transfer`, which installs it in contexts created while the flag is set, so
 * it is read from a fresh context made with the flag on for a moment (the flag restored at once, as
 * `young-garbage.ts` does for `gc`). Where neither works, nothing is released and the caller counts
 * the buffer as garbage as before.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Transfer = (this: ArrayBuffer, length?: number) => ArrayBuffer;

let transfer: Transfer | null | undefined;

/** `ArrayBuffer.prototype.transfer`, or null where this engine has none. */
function arrayBufferTransfer(): Transfer | null {
  if (transfer !== undefined) return transfer;
  const native = (ArrayBuffer.prototype as { transfer?: Transfer }).transfer;
  if (typeof native === 'function') return (transfer = native);
  try {
    setFlagsFromString('--harmony-rab-gsab-transfer');
    const flagged = runInNewContext('ArrayBuffer.prototype.transfer') as unknown;
    transfer = typeof flagged === 'function' ? (flagged as Transfer) : null;
  } catch {
    transfer = null;
  } finally {
    setFlagsFromString('--no-harmony-rab-gsab-transfer');
  }
  return transfer;
}

/**
 * Frees `buffer`'s bytes now (it is detached: every view of it reads as empty). Returns whether it
 * did; false for a buffer that cannot be detached (a WebAssembly memory's, a shared one) or where the
 * engine cannot. The caller must hold the only use of the buffer.
 */
export function releaseArrayBuffer(buffer: ArrayBufferLike): boolean {
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0) return false;
  const release = arrayBufferTransfer();
  if (!release) return false;
  try {
    release.call(buffer, 0);
    return true;
  } catch {
    return false;
  }
}
