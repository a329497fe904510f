import type { Node } from '@modelpass/ir';
import { META_OPERATOR_VERSION } from '../io/metadata-keys.js';

/**
 * `OperatorCode.version` for ops modelpass creates (ops read from a file keep the file's version).
 * The version tells a runtime which kernel features the op needs; these are the versions TFLite
 * 2.9's kernels register for the input types (lite/tools/versioning/op_version.cc facts): float
 * models use 1, int8 and int16 activations the versions that added them. A runtime accepts any
 * version up to the newest it registers, so a version here is never too new for 2.9.
 */
const BY_INPUT_DTYPE: Readonly<Record<string, Readonly<Partial<Record<'int8' | 'int16', number>>>>> = {
  CONV_2D: { int8: 3, int16: 4 },
  DEPTHWISE_CONV_2D: { int8: 3, int16: 5 },
  FULLY_CONNECTED: { int8: 4, int16: 7 },
  TRANSPOSE_CONV: { int8: 2, int16: 3 },
  ADD: { int8: 2, int16: 3 },
  SUB: { int8: 2, int16: 3 },
  MUL: { int8: 2, int16: 4 },
  AVERAGE_POOL_2D: { int8: 2, int16: 3 },
  MAX_POOL_2D: { int8: 2, int16: 3 },
  SOFTMAX: { int8: 2, int16: 3 },
  LOGISTIC: { int8: 2, int16: 3 },
  TANH: { int8: 2, int16: 3 },
  CONCATENATION: { int8: 2, int16: 3 },
  PAD: { int8: 2, int16: 3 },
  PADV2: { int8: 2, int16: 3 },
  MEAN: { int8: 2, int16: 3 },
  MIRROR_PAD: { int8: 2, int16: 2 },
  SPLIT_V: { int8: 2 },
  DEQUANTIZE: { int8: 2 },
  RELU: { int8: 2, int16: 3 },
  RELU6: { int8: 2, int16: 3 },
  LEAKY_RELU: { int8: 2 },
  TRANSPOSE: { int8: 2 },
  STRIDED_SLICE: { int8: 2 },
  RESIZE_BILINEAR: { int8: 2 },
  RESIZE_NEAREST_NEIGHBOR: { int8: 2 },
  GATHER: { int8: 2 },
  MAXIMUM: { int8: 2 },
  MINIMUM: { int8: 2 },
  ARG_MAX: { int8: 2 },
  SLICE: { int8: 2 },
};

/**
 * Ops not listed keep version 1 for int8 and int16 too: RELU_N1_TO_1 (op_version.cc has no case for it;
 * TFLite 2.9's kernel refuses int16: "Only float32, uint8, int8 supported currently"), and SPLIT_V for
 * int16 (only int8 has a version of its own). MIRROR_PAD int16 is version 3 in later op_version.cc, but
 * TFLite 2.9 registers MIRROR_PAD up to version 2 (its kernel takes int16 there).
 */

/** SPLIT's data is its second operand (the first is the axis): int8 2, int32 3, int16 4. */
const SPLIT_BY_DATA_DTYPE: Readonly<Record<string, number>> = { int8: 2, int32: 3, int16: 4 };

/** DEQUANTIZE of float16 weights (version 3), QUANTIZE to int8 / int16 (2 / 3), SPLIT by its data operand, BROADCAST_TO (2). */
function special(builtin: string, node: Node): number | undefined {
  const input = node.inputs[0]?.type;
  const output = node.outputs[0]?.type;
  if (builtin === 'SPLIT') {
    const data = node.inputs[1]?.type;
    return data?.kind === 'tensor' ? (SPLIT_BY_DATA_DTYPE[data.dtype] ?? 1) : 1;
  }
  // BROADCAST_TO's first builtin version is 2 (1 was the custom op's): TFLite 2.9 registers 2–3 and refuses version 1.
  if (builtin === 'BROADCAST_TO') return 2;
  if (builtin === 'DEQUANTIZE' && input?.kind === 'tensor' && input.dtype === 'float16') return 3;
  if (builtin === 'QUANTIZE' && output?.kind === 'tensor') return output.dtype === 'int8' ? 2 : output.dtype === 'int16' ? 3 : 1;
  return undefined;
}

export function operatorVersion(builtin: string, node: Node): number {
  const kept = Number(node.metadataEntry(META_OPERATOR_VERSION));
  if (Number.isInteger(kept) && kept >= 1) return kept;
  const fixed = special(builtin, node);
  if (fixed !== undefined) return fixed;
  const input = node.inputs[0]?.type;
  const dtype = input?.kind === 'tensor' ? input.dtype : undefined;
  if (dtype === 'int8' || dtype === 'int16') return BY_INPUT_DTYPE[builtin]?.[dtype] ?? 1;
  return 1;
}
