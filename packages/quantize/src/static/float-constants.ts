/**
 * Weight-only int8 for large float constants that only float ops read (a transformer's positional
 * embedding, an embedding table read by Gather, a large additive mask): stored as int8 (symmetric,
 * one scale) and read through a DequantizeLinear, so the file shrinks while the op stays float.
 * Constants read by a Conv/MatMul/Gemm are left alone: those are quantized as weights, or were left
 * float on purpose (`exclude=`, accuracy-aware mode). Small constants (LayerNorm parameters, biases,
 * shape values) are not worth a DequantizeLinear each.
 */
import { quantizeSymmetric, type Graph, type Value } from '@modelpass/ir';

/** Constants with fewer elements stay float32. */
export const FLOAT_CONSTANT_MIN_ELEMENTS = 1024;

const WEIGHT_READERS = new Set(['onnx.Conv', 'onnx.ConvTranspose', 'onnx.MatMul', 'onnx.Gemm', 'onnx.QuantizeLinear', 'onnx.DequantizeLinear']);

export interface FloatConstantRecord {
  readonly tensor: string;
  readonly elements: number;
  readonly scale: number;
}

function eligible(value: Value): boolean {
  const tensor = value.constant;
  if (!tensor || tensor.dtype !== 'float32' || tensor.size < FLOAT_CONSTANT_MIN_ELEMENTS) return false;
  if (value.isGraphInput || value.isGraphOutput || value.uses.size === 0 || (value.type.kind === 'tensor' && value.type.quant)) return false;
  for (const use of value.uses) if (!use.node || WEIGHT_READERS.has(use.node.op)) return false;
  // Non-finite values have no int8 form.
  for (const v of tensor.toNumbers()) if (!Number.isFinite(v)) return false;
  return true;
}

/** Gives every eligible constant an int8 quant<> type (materialize-qdq then reads it through a DequantizeLinear). */
export function quantizeFloatConstants(graph: Graph): FloatConstantRecord[] {
  const records: FloatConstantRecord[] = [];
  for (const value of graph.constants) {
    if (!eligible(value)) continue;
    const float = value.constant!;
    const q = quantizeSymmetric(float, { dtype: 'int8' });
    const scale = q.scale.toNumbers()[0]!;
    value.setConstant(q.values.withQuant({ scale: [scale], zeroPoint: [0], bits: 8 }));
    records.push({ tensor: value.name, elements: float.size, scale });
  }
  return records;
}
