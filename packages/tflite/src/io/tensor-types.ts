import type { DType } from '@modelpass/ir';
import { TFLITE_ENUMS } from '../generated/schema-tables.js';

/** TFLite `TensorType` member → IR dtype (RESOURCE and VARIANT have no IR dtype). */
const TO_DTYPE: Readonly<Record<string, DType>> = {
  FLOAT32: 'float32',
  FLOAT16: 'float16',
  INT32: 'int32',
  UINT8: 'uint8',
  INT64: 'int64',
  STRING: 'string',
  BOOL: 'bool',
  INT16: 'int16',
  COMPLEX64: 'complex64',
  INT8: 'int8',
  FLOAT64: 'float64',
  COMPLEX128: 'complex128',
  UINT64: 'uint64',
  UINT32: 'uint32',
  UINT16: 'uint16',
  INT4: 'int4',
  BFLOAT16: 'bfloat16',
  INT2: 'int2',
  UINT4: 'uint4',
  FLOAT8_E4M3FN: 'float8e4m3fn',
  FLOAT8_E5M2: 'float8e5m2',
};

const TENSOR_TYPES = TFLITE_ENUMS.TensorType!;
const CODE_TO_NAME = new Map(Object.entries(TENSOR_TYPES).map(([name, code]) => [code, name]));
const DTYPE_TO_CODE = new Map<DType, number>(Object.entries(TO_DTYPE).map(([name, dtype]) => [dtype, TENSOR_TYPES[name]!]));

/** The TensorType name of a code (`9` → `INT8`), or undefined. */
export function tensorTypeName(code: number): string | undefined {
  return CODE_TO_NAME.get(code);
}

/** The IR dtype of a TensorType code, or undefined (unknown code, RESOURCE, VARIANT). */
export function dtypeOfTensorType(code: number): DType | undefined {
  const name = CODE_TO_NAME.get(code);
  return name === undefined ? undefined : TO_DTYPE[name];
}

/** The TensorType code of an IR dtype, or undefined when TFLite has none (e.g. float8e4m3fnuz). */
export function tensorTypeOfDtype(dtype: DType): number | undefined {
  return DTYPE_TO_CODE.get(dtype);
}
