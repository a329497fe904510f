/**
 * QuantizeLinear / DequantizeLinear parameters <-> the IR's QuantParams: the tensors
 * materialize-qdq writes, and what fold-qdq reads back (or why it cannot).
 */
import { dtypeFromOnnxCode, dtypeInfo, isDType, isTensorType, Tensor, type DType, type Node, type QuantParams, type Value } from '@modelpass/ir';
import { constantOf } from '../util/constants.js';

/** The scale and zero-point tensors of one quant type: scalars per tensor, 1-D per axis. */
export function paramTensors(storage: DType, quant: QuantParams): { scale: Tensor; zeroPoint: Tensor } {
  const shape = quant.axis === undefined ? [] : [quant.scale.length];
  return {
    scale: Tensor.fromValues('float32', shape, quant.scale.map((s) => Math.fround(s))),
    zeroPoint: Tensor.fromValues(storage, shape, [...quant.zeroPoint]),
  };
}

/** The ONNX attributes of a Q/DQ node for this quant type (`axis` only per axis). */
export function qdqAttributes(quant: QuantParams): Record<string, { kind: 'int'; value: number }> {
  return quant.axis === undefined ? {} : { axis: { kind: 'int', value: quant.axis } };
}

export interface ReadParams {
  readonly storage: DType;
  readonly quant: QuantParams;
}

/** Either the parameters of a Q/DQ node, or why they are not a quant type. */
export type ParamsOrReason = ReadParams | { readonly reason: string };

function storageOfQuantize(node: Node, zeroPoint: Tensor | undefined): DType | string {
  if (zeroPoint) return zeroPoint.dtype;
  const code = node.optionalAttr('output_dtype', 'int') ?? 0;
  if (code === 0) return 'uint8';
  return dtypeFromOnnxCode(code) ?? `unknown output_dtype ${code}`;
}

function valueDType(value: Value | null): DType | undefined {
  const constant = constantOf(value);
  if (constant) return constant.dtype;
  return value && isTensorType(value.type) ? value.type.dtype : undefined;
}

/**
 * The quant params of a QuantizeLinear or DequantizeLinear node whose scale and zero point are
 * constants: per tensor when the scale has one element, per axis (the `axis` attribute, default 1)
 * when it is 1-D. Blocked quantization, non-float32 scales and float outputs other than float32 are
 * not quant types.
 */
export function readQdqParams(node: Node): ParamsOrReason {
  if ((node.optionalAttr('block_size', 'int') ?? 0) > 0) return { reason: 'blocked quantization (block_size) is not a quant<> type' };
  const scaleValue = node.inputs[1] ?? null;
  const scale = constantOf(scaleValue);
  if (!scale) return { reason: `its scale '${scaleValue?.name ?? ''}' is not a constant` };
  if (scale.dtype !== 'float32') return { reason: `its scale is ${scale.dtype}; quant<> types hold float32 reals` };
  const zeroPointValue = node.inputs[2] ?? null;
  const zeroPoint = zeroPointValue ? constantOf(zeroPointValue) : undefined;
  if (zeroPointValue && !zeroPoint) return { reason: `its zero point '${zeroPointValue.name}' is not a constant` };

  let storage: DType | string;
  if (node.op === 'onnx.QuantizeLinear') {
    storage = storageOfQuantize(node, zeroPoint);
    if (node.optionalAttr('precision', 'int')) return { reason: 'a QuantizeLinear with a precision attribute is not a quant<> type' };
  } else {
    // The integers' dtype: from their type, else the zero point's, else the QuantizeLinear that made them.
    const input = node.inputs[0] ?? null;
    const producer = input?.producer;
    let x: DType | undefined = valueDType(input) ?? zeroPoint?.dtype;
    if (!x && producer?.op === 'onnx.QuantizeLinear') {
      const made = readQdqParams(producer);
      if (!('reason' in made)) x = made.storage;
    }
    if (!x) return { reason: 'the dtype of its input is unknown' };
    storage = x;
    const code = node.optionalAttr('output_dtype', 'int') ?? 0;
    if (code !== 0 && dtypeFromOnnxCode(code) !== 'float32') return { reason: `its output_dtype is not float32` };
  }
  if (typeof storage !== 'string' || !isDType(storage)) return { reason: String(storage) };
  if (zeroPoint && zeroPoint.dtype !== storage) return { reason: `its zero point is ${zeroPoint.dtype}, its integers ${storage}` };
  if (dtypeInfo(storage).category === 'float') return { reason: `${storage} (float8) quantization is not a quant<> type` };

  const scales = scale.toNumbers();
  const zeros = zeroPoint ? zeroPoint.toNumbers() : scales.map(() => 0);
  if (zeroPoint && (zeroPoint.shape.length !== scale.shape.length || zeroPoint.size !== scale.size)) {
    return { reason: `its zero point [${zeroPoint.shape.join(',')}] and scale [${scale.shape.join(',')}] differ in shape` };
  }
  const bits = dtypeInfo(storage).bits;
  if (scale.size === 1 && scale.rank <= 1) return { storage, quant: { bits, scale: scales, zeroPoint: zeros } };
  if (scale.rank !== 1) return { reason: `its scale has rank ${scale.rank}; per-axis scales are 1-D` };
  const axis = node.optionalAttr('axis', 'int') ?? 1;
  return { storage, quant: { bits, axis, scale: scales, zeroPoint: zeros } };
}

/** Same storage and params; axes compared after normalizing against `rank` when it is known. */
export function sameParams(a: ReadParams, b: ReadParams, rank: number | undefined): boolean {
  if (a.storage !== b.storage) return false;
  const axisA = normalize(a.quant.axis, rank);
  const axisB = normalize(b.quant.axis, rank);
  return (
    axisA === axisB &&
    a.quant.bits === b.quant.bits &&
    a.quant.scale.length === b.quant.scale.length &&
    a.quant.scale.every((s, i) => Math.fround(s) === Math.fround(b.quant.scale[i]!)) &&
    a.quant.zeroPoint.every((z, i) => z === b.quant.zeroPoint[i])
  );
}

function normalize(axis: number | undefined, rank: number | undefined): number | undefined {
  return axis !== undefined && axis < 0 && rank !== undefined ? axis + rank : axis;
}

/** `scale=[…] zero_point=[…]` for messages. */
export function describeParams(params: ReadParams): string {
  const { quant } = params;
  const axis = quant.axis === undefined ? '' : `axis=${quant.axis} `;
  return `${params.storage} ${axis}scale=[${quant.scale.join(', ')}] zero_point=[${quant.zeroPoint.join(', ')}]`;
}
