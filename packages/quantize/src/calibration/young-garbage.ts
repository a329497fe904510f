/**
 * Bounds the ArrayBuffer garbage of a calibration's ORT runs. onnxruntime-node returns every output
 * (and takes every feed) in a fresh ArrayBuffer; the JavaScript objects over them are tiny, so V8's
 * young generation fills slowly and the buffers pile up between scavenges until their external size
 * (~32 MB measured) forces one. A 100-sample calibration ends before that, a 2,000-sample one does
 * not: that pile was the peak-RSS growth with the number of samples (fashion-resnet, percentile:
 * 140 → 170 MB, `process.memoryUsage().arrayBuffers` swinging 5 → 36 MB).
 *
 * `YoungGarbage` counts the bytes of run buffers a caller has dropped and, every `threshold` bytes,
 * asks V8 for a minor (young-generation) collection: a scavenge of a heap where almost nothing
 * survives, about a millisecond, after several runs' worth of work. V8's collector is reached the
 * way test runners reach it (jest's leak detector): the flag `--expose-gc` set for a moment, `gc`
 * read from a fresh context, the flag restored. Where that is not possible the counter does nothing
 * (memory then behaves as before; results never depend on it).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Collector = (options: { type: 'minor' | 'major' }) => void;

/**
 * Buffer bytes between two minor collections: about two runs of the histogram graph on
 * fashion-resnet (0.36 MB each), twenty of the min/max graph. Measured there at 2,000 samples:
 * 4 MB left minmax's peak growing (+12%, its runs drop little but the dataset's own buffers,
 * uncounted, add to them), 1 MB +4%, 256 KB flat, at about 0.4 ms per collection.
 */
export const YOUNG_GARBAGE_THRESHOLD = 512 * 2 ** 10;

let collector: Collector | null | undefined;

/** V8's `gc`, or null where it cannot be had. */
function v8Collector(): Collector | null {
  if (collector !== undefined) return collector;
  const exposed = (globalThis as { gc?: Collector }).gc;
  if (typeof exposed === 'function') return (collector = exposed);
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    collector = typeof gc === 'function' ? (gc as Collector) : null;
  } catch {
    collector = null;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return collector;
}

export class YoungGarbage {
  private pending = 0;
  /** Minor collections asked for so far. */
  collections = 0;

  constructor(private readonly threshold = YOUNG_GARBAGE_THRESHOLD) {}

  /** Notes `bytes` of buffers just dropped; collects the young generation once enough piled up. */
  dropped(bytes: number): void {
    this.pending += bytes;
    if (this.pending < this.threshold) return;
    this.pending = 0;
    const gc = v8Collector();
    if (!gc) return;
    gc({ type: 'minor' });
    this.collections++;
  }
}
