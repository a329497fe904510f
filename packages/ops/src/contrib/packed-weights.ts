/**
 * Weights stored several to a byte: how many weights a packed constant holds, for every count of
 * parameters (inspect, report, convert's before/after, the cost analysis' per-layer parameters) to
 * count the same logical weights a float model would have, not the bytes that store them.
 *
 * - `com.microsoft.MatMulNBits` input B (uint8 `[N, k_blocks, blob_size]`): the `[N, K]` weight, K·N values of `bits` bits.
 * - `com.microsoft.GatherBlockQuantized` input data (uint8 with `bits` 4: two codes a byte): 8 / bits values a byte.
 *
 * Keyed by op, so another packed format is one entry.
 */
import type { Node, Value } from '@modelpass/ir';
import { matMulNBitsLayout } from './matmul-nbits.js';
import { MICROSOFT_DIALECT } from './contrib-op.js';

export interface PackedWeights {
  /** The weights the constant holds. */
  readonly weights: number;
  /** Bits per weight. */
  readonly bits: number;
  /** The op that reads it packed (`com.microsoft.MatMulNBits`). */
  readonly op: string;
}

function bitsOf(node: Node): number {
  const attribute = node.getAttribute('bits');
  return attribute?.kind === 'int' ? Number(attribute.value) : 4;
}

const PACKED_READERS: ReadonlyMap<string, { readonly input: number; readonly weights: (node: Node, stored: number) => number }> = new Map([
  [`${MICROSOFT_DIALECT}.MatMulNBits`, { input: 1, weights: (node: Node, stored: number) => { const layout = matMulNBitsLayout(node); return layout ? layout.k * layout.n : (stored * 8) / bitsOf(node); } }],
  [`${MICROSOFT_DIALECT}.GatherBlockQuantized`, { input: 0, weights: (node: Node, stored: number) => (stored * 8) / bitsOf(node) }],
]);

/** What a uint8 constant holds when a packed op reads it as its weights; undefined for any other value. */
export function packedWeightsOf(value: Value): PackedWeights | undefined {
  const constant = value.constant;
  if (constant?.dtype !== 'uint8') return undefined;
  for (const user of value.users) {
    const reader = PACKED_READERS.get(user.op);
    if (reader && user.inputs[reader.input] === value) return { weights: reader.weights(user, constant.size), bits: bitsOf(user), op: user.op };
  }
  return undefined;
}

/** The parameters a constant counts for: its packed weights, else its elements (a sparse one by its dense shape). */
export function parameterCount(value: Value): number {
  const packed = packedWeightsOf(value);
  if (packed) return packed.weights;
  if (value.constant) return value.constant.size;
  if (value.sparseConstant) return value.sparseConstant.dims.reduce((n, d) => n * d, 1);
  return 0;
}
