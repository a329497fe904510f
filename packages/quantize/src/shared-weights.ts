/**
 * A weight shared by several layers (tied embeddings and LM head, a Siamese branch applied to two
 * inputs, the same Conv applied twice) is quantized once and stored once: the first layer makes
 * the quantized constants, later layers with the same quantization read the same ones. Only the
 * constants are shared — each layer keeps its own DequantizeLinear / MatMulNBits / MatMulInteger
 * node, since ONNX Runtime's QDQ fusions take a DequantizeLinear read by one node only.
 */
import type { Value } from '@modelpass/ir';

export class SharedByWeight<T> {
  readonly #made = new Map<Value, Map<string, T>>();

  /**
   * What was made for `source` under `key` (everything that decides the result besides the weight:
   * layout, scheme, scale factors), made by `make` the first time; `reused` tells whether it already existed.
   */
  get(source: Value, key: string, make: () => T): { value: T; reused: boolean } {
    let byKey = this.#made.get(source);
    if (!byKey) this.#made.set(source, (byKey = new Map()));
    if (byKey.has(key)) return { value: byKey.get(key)!, reused: true };
    const value = make();
    byKey.set(key, value);
    return { value, reused: false };
  }
}

/** Constants made once per weight and quantization. */
export type SharedWeightConstants = SharedByWeight<readonly Value[]>;

export function sharedWeightConstants(): SharedWeightConstants {
  return new SharedByWeight<readonly Value[]>();
}

/** The summed bytes of constants. */
export function constantBytes(values: readonly (Value | null | undefined)[]): number {
  return values.reduce((sum, value) => sum + (value?.constant?.byteLength ?? 0), 0);
}
