/**
 * Weight-only int8 for large float constants that only float ops read (a transformer's positional
 * embedding, an embedding table read by Gather, a large additive mask): stored as int8 (symmetric,
 * one scale) and read through a DequantizeLinear, so the file shrinks while the op stays float.
 * Constants read by a Conv/MatMul/Gemm are left alone: those are quantized as weights, or were left
 * float on purpose (`exclude=`, accuracy-aware mode). By default small constants (LayerNorm
 * parameters, biases, shape values) stay float32; `minElements` lowers the bar (quantize-static's
 * `float-constants-min-elements`): a vector of n floats takes 4n bytes, as int8 n bytes plus ~60 for
 * its DequantizeLinear, scale and names, so below ~20 values it only grows the file (the option's
 * floor is 16). Each constant gets its own symmetric scale, as the large ones do.
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

/** The smallest `minElements` quantize-static accepts: below it the DequantizeLinear costs more than it saves. */
export const FLOAT_CONSTANT_MIN_ELEMENTS_FLOOR = 16;

function eligible(value: Value, minElements: number): boolean {
  const tensor = value.constant;
  if (!tensor || tensor.dtype !== 'float32' || tensor.size < minElements) return false;
  if (value.isGraphInput || value.isGraphOutput || value.uses.size === 0 || (value.type.kind === 'tensor' && value.type.quant)) return false;
  for (const use of value.uses) if (!use.node || WEIGHT_READERS.has(use.node.op)) return false;
  // Non-finite values have no int8 form.
  for (const v of tensor.toNumbers()) if (!Number.isFinite(v)) return false;
  return true;
}

/** Gives every eligible constant an int8 quant<> type (materialize-qdq then reads it through a DequantizeLinear). */
export function quantizeFloatConstants(graph: Graph, minElements = FLOAT_CONSTANT_MIN_ELEMENTS): FloatConstantRecord[] {
  const records: FloatConstantRecord[] = [];
  for (const value of graph.constants) {
    if (!eligible(value, Math.max(FLOAT_CONSTANT_MIN_ELEMENTS_FLOOR, minElements))) continue;
    const float = value.constant!;
    const q = quantizeSymmetric(float, { dtype: 'int8' });
    const scale = q.scale.toNumbers()[0]!;
    value.setConstant(q.values.withQuant({ scale: [scale], zeroPoint: [0], bits: 8 }));
    records.push({ tensor: value.name, elements: float.size, scale });
  }
  return records;
}
