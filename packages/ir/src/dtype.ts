/**
 * Element data types. The set and the numeric codes follow ONNX's `TensorProto.DataType`
 * (onnx.proto, IR version 14), so every ONNX tensor has a home here.
 */
export type DType =
  | 'float32'
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'string'
  | 'bool'
  | 'float16'
  | 'float64'
  | 'uint32'
  | 'uint64'
  | 'complex64'
  | 'complex128'
  | 'bfloat16'
  | 'float8e4m3fn'
  | 'float8e4m3fnuz'
  | 'float8e5m2'
  | 'float8e5m2fnuz'
  | 'uint4'
  | 'int4'
  | 'float4e2m1'
  | 'float8e8m0'
  | 'uint2'
  | 'int2';

export type DTypeCategory = 'float' | 'signed' | 'unsigned' | 'bool' | 'string' | 'complex';

export interface DTypeInfo {
  readonly name: DType;
  /** `TensorProto.DataType` code. */
  readonly onnxCode: number;
  /** Bits per element in packed storage (0 for string). */
  readonly bits: number;
  readonly category: DTypeCategory;
}

const table: readonly DTypeInfo[] = [
  { name: 'float32', onnxCode: 1, bits: 32, category: 'float' },
  { name: 'uint8', onnxCode: 2, bits: 8, category: 'unsigned' },
  { name: 'int8', onnxCode: 3, bits: 8, category: 'signed' },
  { name: 'uint16', onnxCode: 4, bits: 16, category: 'unsigned' },
  { name: 'int16', onnxCode: 5, bits: 16, category: 'signed' },
  { name: 'int32', onnxCode: 6, bits: 32, category: 'signed' },
  { name: 'int64', onnxCode: 7, bits: 64, category: 'signed' },
  { name: 'string', onnxCode: 8, bits: 0, category: 'string' },
  { name: 'bool', onnxCode: 9, bits: 8, category: 'bool' },
  { name: 'float16', onnxCode: 10, bits: 16, category: 'float' },
  { name: 'float64', onnxCode: 11, bits: 64, category: 'float' },
  { name: 'uint32', onnxCode: 12, bits: 32, category: 'unsigned' },
  { name: 'uint64', onnxCode: 13, bits: 64, category: 'unsigned' },
  { name: 'complex64', onnxCode: 14, bits: 64, category: 'complex' },
  { name: 'complex128', onnxCode: 15, bits: 128, category: 'complex' },
  { name: 'bfloat16', onnxCode: 16, bits: 16, category: 'float' },
  { name: 'float8e4m3fn', onnxCode: 17, bits: 8, category: 'float' },
  { name: 'float8e4m3fnuz', onnxCode: 18, bits: 8, category: 'float' },
  { name: 'float8e5m2', onnxCode: 19, bits: 8, category: 'float' },
  { name: 'float8e5m2fnuz', onnxCode: 20, bits: 8, category: 'float' },
  { name: 'uint4', onnxCode: 21, bits: 4, category: 'unsigned' },
  { name: 'int4', onnxCode: 22, bits: 4, category: 'signed' },
  { name: 'float4e2m1', onnxCode: 23, bits: 4, category: 'float' },
  { name: 'float8e8m0', onnxCode: 24, bits: 8, category: 'float' },
  { name: 'uint2', onnxCode: 25, bits: 2, category: 'unsigned' },
  { name: 'int2', onnxCode: 26, bits: 2, category: 'signed' },
];

const byName = new Map<string, DTypeInfo>(table.map((info) => [info.name, info]));
const byOnnxCode = new Map<number, DTypeInfo>(table.map((info) => [info.onnxCode, info]));

export const ALL_DTYPES: readonly DType[] = table.map((info) => info.name);

export function isDType(name: string): name is DType {
  return byName.has(name);
}

export function dtypeInfo(dtype: DType): DTypeInfo {
  const info = byName.get(dtype);
  if (!info) throw new TypeError(`unknown dtype '${dtype}'`);
  return info;
}

/** The dtype for an ONNX `TensorProto.DataType` code, or undefined when the code is unknown. */
export function dtypeFromOnnxCode(code: number): DType | undefined {
  return byOnnxCode.get(code)?.name;
}

export function onnxCodeOf(dtype: DType): number {
  return dtypeInfo(dtype).onnxCode;
}

/** Bytes needed to store `count` elements packed (sub-byte types share bytes, low nibble first). */
export function byteLengthOf(dtype: DType, count: number): number {
  const bits = dtypeInfo(dtype).bits;
  if (bits === 0) throw new TypeError(`dtype '${dtype}' has no fixed byte size`);
  return Math.ceil((count * bits) / 8);
}

export function isFloatDType(dtype: DType): boolean {
  return dtypeInfo(dtype).category === 'float';
}

export function isIntegerDType(dtype: DType): boolean {
  const category = dtypeInfo(dtype).category;
  return category === 'signed' || category === 'unsigned';
}
