/** Shared by the int8 TFLite conformance tests: seeded inputs, and how far two int8 results are apart in steps. */
import { Tensor, type Model } from '@modelpass/ir';
import { runOrt, type TfliteEngine } from '@modelpass/runtime';

/** Uniform values in [low, low + span) from a 32-bit linear congruential generator seeded with `seed`. */
export function seededUniform(shape: readonly number[], seed: number, low: number, span: number): Tensor {
  let state = seed;
  const count = shape.reduce((n, d) => n * d, 1);
  return Tensor.fromValues('float32', shape, Array.from({ length: count }, () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return (state / 2 ** 32) * span + low;
  }));
}

/**
 * The largest |a − b| in quantization steps of `scale`. Both are (q − zero point) · scale of the same
 * parameters, so integers within one step ⇔ reals within one scale.
 */
export function stepsApart(a: readonly number[], b: readonly number[], scale: number): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / scale);
  return worst;
}

/** The largest |ORT − TFLite| over the first output of `qdq` in ONNX Runtime and of the .tflite `file` in `engine`, on `feeds`. */
export async function worstOrtTfliteGap(qdq: Model, engine: TfliteEngine, file: string, feeds: Record<string, Tensor>): Promise<number> {
  const ort = [...(await runOrt(qdq, feeds)).values()][0]!.toNumbers();
  const tflite = [...(await engine.run(file, feeds)).values()][0]!.toNumbers();
  return ort.reduce((m, v, k) => Math.max(m, Math.abs(v - tflite[k]!)), 0);
}
