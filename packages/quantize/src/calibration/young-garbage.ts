/**
 * Bounds the ArrayBuffer garbage of a calibration's ORT runs. onnxruntime-node returns every output
 * (and takes every feed) in a fresh ArrayBuffer; the JavaScript objects over them are tiny, so V8's
 * young generation fills slowly and the buffers pile up between scavenges until their external size
 * (~32 MB measured) forces one. A 100-sample calibration ends before that, a 2,000-sample one does
 * not: that pile was the peak-RSS growth with the number of samples (fashion-resnet, percentile:
 * 140 → 170 MB, `process.memoryUsage().arrayBuffers` swinging 5 → 36 MB).
 *
 * `YoungGarbage` counts the bytes of buffers a caller has dropped and asks V8 for a minor
 * (young-generation) collection at the caller's quiet points once `threshold` bytes piled up (at
 * once past `limit`): a scavenge of a heap where almost nothing survives, under a millisecond. V8's collector is reached the
 * way test runners reach it (jest's leak detector): the flag `--expose-gc` set for a moment, `gc`
 * read from a fresh context, the flag restored. Where that is not possible the counter does nothing
 * (memory then behaves as before; results never depend on it).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Collector = (options: { type: 'minor' | 'major' }) => void;

/**
 * Buffer bytes after which a quiet point (between batches) collects: about twenty runs of the min/max
 * graph on fashion-resnet.
 */
export const YOUNG_GARBAGE_THRESHOLD = 512 * 2 ** 10;
/**
 * Buffer bytes after which a collection runs at once, inside a batch: about one run of the histogram
 * graph, whose int16 bin indices (2 bytes per value, ~2.3 MB per run of 8 fashion-resnet samples)
 * are counted in JavaScript and dropped; a batch read as activations drops up to the activation
 * budget per run. Inside a batch the batch's own buffers are alive, and a buffer that lives through
 * two scavenges moves to V8's old generation, which only a full collection frees: a batch of 64
 * fashion-mnist samples, promoted so, added ~0.3 MB of peak RSS per batch when every 512 KB
 * collected (2,000 samples: +9%), so small piles wait for the batch's end. With the index outputs,
 * 2 MB against 8 MB kept the growth from 100 to 2,000 samples alike (+7–8 %) and the peaks ~10 MB
 * lower (fashion-resnet, percentile and entropy, 3 processes each; RESULTS-calibration-memory.md).
 * Since s16 the bin indices are freed as soon as they are counted (`buffer-release.ts`) and are not
 * counted here, so this limit is reached by activations read as values (and by the indices only where
 * the engine cannot free a buffer): a 2,000-sample histogram calibration of fashion-resnet asks for
 * ~17 collections instead of ~253.
 */
export const YOUNG_GARBAGE_LIMIT = 2 * 2 ** 20;

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

  constructor(
    private readonly threshold = YOUNG_GARBAGE_THRESHOLD,
    private readonly limit = YOUNG_GARBAGE_LIMIT,
  ) {}

  /** Notes `bytes` of buffers just dropped; collects at once past the limit. */
  dropped(bytes: number): void {
    this.pending += bytes;
    if (this.pending >= this.limit) this.collect();
  }

  /** A quiet point (little alive that is not long-lived): collects once the threshold has piled up. */
  settle(): void {
    if (this.pending >= this.threshold) this.collect();
  }

  private collect(): void {
    this.pending = 0;
    const gc = v8Collector();
    if (!gc) return;
    gc({ type: 'minor' });
    this.collections++;
  }
}
