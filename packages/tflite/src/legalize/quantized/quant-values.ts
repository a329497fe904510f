import { dequantizeLinear, isTensorType, Tensor, tensorType, type QuantParams, type TensorType, type Value } from '@modelpass/ir';

/** The quant<> parameters of a value's type (or of its constant), or undefined. */
export function quantOf(value: Value | null | undefined): QuantParams | undefined {
  if (!value) return undefined;
  if (isTensorType(value.type) && value.type.quant) return value.type.quant;
  return value.constant?.quant;
}

export function isQuantValue(value: Value | null | undefined): boolean {
  return quantOf(value) !== undefined;
}

/** True for a value holding reals: float32, or a quant<> type (integers standing for float32 reals). */
export function holdsReals(value: Value | null | undefined): boolean {
  if (!value || !isTensorType(value.type)) return false;
  return value.type.dtype === 'float32' || value.type.quant !== undefined;
}

/** The float32 type of the reals a quant<> value stands for. */
export function realType(value: Value): TensorType {
  const type = value.type;
  return tensorType('float32', isTensorType(type) ? type.shape : null);
}

/** The float32 reals of a quant<> constant (bit-exact with ONNX Runtime's DequantizeLinear). */
export function dequantizeTensor(tensor: Tensor): Tensor {
  const quant = tensor.quant!;
  const plain = tensor.withQuant(undefined);
  const perTensor = quant.axis === undefined;
  const shape = perTensor ? [] : [quant.scale.length];
  const scale = Tensor.fromValues('float32', shape, quant.scale.map((s) => Math.fround(s)));
  const zeroPoint = tensor.dtype === 'int32' ? undefined : Tensor.fromValues(tensor.dtype, shape, [...quant.zeroPoint]);
  return dequantizeLinear(plain, scale, zeroPoint, perTensor ? {} : { axis: quant.axis! });
}

/** Same scales, zero points and axis (scales compared as float32). */
export function sameQuant(a: QuantParams | undefined, b: QuantParams | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.axis !== b.axis || a.scale.length !== b.scale.length || a.zeroPoint.length !== b.zeroPoint.length) return false;
  return a.scale.every((s, i) => Math.fround(s) === Math.fround(b.scale[i]!)) && a.zeroPoint.every((z, i) => z === b.zeroPoint[i]);
}

/** `value`'s type with other quant<> parameters (and optionally another storage dtype). */
export function withQuantType(value: Value, quant: QuantParams, dtype?: TensorType['dtype']): TensorType {
  const type = value.type as TensorType;
  return tensorType(dtype ?? type.dtype, type.shape, quant);
}

/**
 * Runs `infer` (shape inference in refresh mode) and puts back the quant<> types it replaced by the
 * reals' float32 or another storage dtype: inference keeps the shapes it computes, the storage and
 * quantization stay what the int8 preparation decided.
 */
export function keepingQuantTypes<T>(values: Iterable<Value>, infer: () => T): T {
  const kept = new Map<Value, TensorType>();
  for (const value of values) if (isTensorType(value.type) && value.type.quant) kept.set(value, value.type);
  const result = infer();
  for (const [value, type] of kept) {
    const now = value.type;
    value.type = tensorType(type.dtype, isTensorType(now) && now.shape ? now.shape : type.shape, type.quant);
  }
  return result;
}
