/**
 * What a quantized tensor type means in the IR, and which ONNX opset can spell it.
 *
 * The convention (the one `Tensor.quant` and `Graph.addConstant` already use): the type's `dtype`
 * is the STORAGE integer type and `quant` says which reals the integers stand for,
 * `real = scale * (q - zeroPoint)`, per tensor (`axis` undefined, one scale) or per channel along
 * `axis`. So `int8[16,3,3,3] quant<bits=8, axis=0, scale=[…], zero_point=[…]>` is an int8 weight,
 * and an op reading such a value computes on its reals (what DequantizeLinear would give).
 * The reals are float32 (the type of the scales ONNX Runtime takes).
 */
import { dtypeInfo, formatType, isStaticShape, type DType, type QuantParams, type TensorType, type Value } from '@modelpass/ir';
import { integerRange } from '@modelpass/ops';

/** The storage dtypes a quant type may have, with the first opset whose Q/DQ accept them. */
const STORAGE_OPSETS: ReadonlyMap<DType, number> = new Map<DType, number>([
  ['int8', 10],
  ['uint8', 10],
  ['int32', 10], // DequantizeLinear only (biases): nothing quantizes to int32
  ['int16', 21],
  ['uint16', 21],
  ['int4', 21],
  ['uint4', 21],
]);

/** Storage dtypes QuantizeLinear can produce (int32 is DequantizeLinear-only). */
const QUANTIZABLE: ReadonlySet<DType> = new Set<DType>(['int8', 'uint8', 'int16', 'uint16', 'int4', 'uint4']);

/** The first opset with per-axis (`axis`) QuantizeLinear / DequantizeLinear. */
export const PER_AXIS_OPSET = 13;
/** The first opset with QuantizeLinear / DequantizeLinear at all. */
export const QDQ_OPSET = 10;

export const QUANT_STORAGE_DTYPES: readonly DType[] = [...STORAGE_OPSETS.keys()];

export function isQuantStorageDType(dtype: DType): boolean {
  return STORAGE_OPSETS.has(dtype);
}

export function canQuantizeTo(dtype: DType): boolean {
  return QUANTIZABLE.has(dtype);
}

/** A tensor type that carries quantization parameters. */
export type QuantizedTensorType = TensorType & { readonly quant: QuantParams };

export function quantizedTypeOf(value: Value): QuantizedTensorType | undefined {
  const type = value.type;
  return type.kind === 'tensor' && type.quant ? (type as QuantizedTensorType) : undefined;
}

/** The smallest onnx opset whose QuantizeLinear/DequantizeLinear can carry this type, and why. */
export function requiredOpset(type: QuantizedTensorType): { opset: number; because: string } {
  const storage = STORAGE_OPSETS.get(type.dtype) ?? QDQ_OPSET;
  const perAxis = type.quant.axis !== undefined ? PER_AXIS_OPSET : QDQ_OPSET;
  if (storage >= perAxis && storage > QDQ_OPSET) return { opset: storage, because: `${type.dtype} storage` };
  if (perAxis > QDQ_OPSET) return { opset: perAxis, because: 'per-axis scales' };
  return { opset: QDQ_OPSET, because: 'QuantizeLinear/DequantizeLinear' };
}

/**
 * Why a quant type is not a well-formed one (undefined when it is): storage dtype, bit width,
 * scale and zero point counts, axis, zero points within the storage range, positive finite scales.
 */
export function quantTypeProblem(type: QuantizedTensorType): { reason: string; expected: string; actual: string } | undefined {
  const { dtype, quant, shape } = type;
  if (!isQuantStorageDType(dtype)) {
    return {
      reason: `a quant<> type needs an integer storage dtype (the dtype is what is stored; the reals are scale * (q - zero_point))`,
      expected: QUANT_STORAGE_DTYPES.join(', '),
      actual: dtype,
    };
  }
  const bits = dtypeInfo(dtype).bits;
  if (quant.bits !== bits) return { reason: `quant<bits=${quant.bits}> does not match the ${dtype} storage`, expected: `bits=${bits}`, actual: `bits=${quant.bits}` };
  if (quant.scale.length === 0 || quant.scale.length !== quant.zeroPoint.length) {
    return { reason: 'quant<> needs as many zero points as scales, and at least one', expected: `${quant.scale.length} zero points`, actual: `${quant.zeroPoint.length}` };
  }
  if (quant.axis === undefined) {
    if (quant.scale.length !== 1) return { reason: 'a per-tensor quant<> (no axis) has one scale', expected: '1 scale', actual: `${quant.scale.length}` };
  } else {
    const rank = shape?.length;
    if (rank !== undefined && (quant.axis < -rank || quant.axis >= rank)) {
      return { reason: `quant<axis=${quant.axis}> is out of range for rank ${rank}`, expected: `an axis in [${-rank}, ${rank - 1}]`, actual: String(quant.axis) };
    }
    const dim = rank !== undefined && shape ? shape[quant.axis < 0 ? quant.axis + rank : quant.axis] : undefined;
    if (typeof dim === 'number' && dim !== quant.scale.length) {
      return { reason: `a per-axis quant<> has one scale per element of axis ${quant.axis}`, expected: `${dim} scales`, actual: `${quant.scale.length}` };
    }
  }
  const range = integerRange(dtype)!;
  const badZero = quant.zeroPoint.find((z) => !Number.isInteger(z) || z < range.min || z > range.max);
  if (badZero !== undefined) return { reason: `zero point ${badZero} is not a ${dtype} value`, expected: `an integer in [${range.min}, ${range.max}]`, actual: String(badZero) };
  if (dtype === 'int32' && quant.zeroPoint.some((z) => z !== 0)) {
    return { reason: 'int32 quantization (biases) has zero point 0 in ONNX', expected: 'zero_point=[0, ...]', actual: `[${quant.zeroPoint.join(', ')}]` };
  }
  const badScale = quant.scale.find((s) => !(Number.isFinite(s) && Math.fround(s) > 0));
  if (badScale !== undefined) return { reason: `scale ${badScale} is not a positive finite float32`, expected: 'scales > 0', actual: String(badScale) };
  return undefined;
}

/** The quant axis as a non-negative index (undefined per tensor); needs the rank for a negative axis. */
export function normalizedQuantAxis(quant: QuantParams, rank: number | undefined): number | undefined {
  if (quant.axis === undefined || quant.axis >= 0) return quant.axis;
  return rank === undefined ? quant.axis : quant.axis + rank;
}

/** `int8[4,3] quant<…>` for messages. */
export function describeQuantType(type: QuantizedTensorType): string {
  const where = quantLabel(type.quant);
  return `${formatType(type)} ${where}`;
}

function quantLabel(quant: QuantParams): string {
  return quant.axis === undefined ? 'per-tensor' : `per-axis (axis ${quant.axis}, ${quant.scale.length} channels)`;
}

export function staticShapeOrUndefined(type: TensorType): readonly number[] | undefined {
  return isStaticShape(type.shape) ? type.shape : undefined;
}
