import { dtypeInfo, type DType } from '@modelpass/ir';

/**
 * How a kernel computes on a dtype's elements: floats and ints up to 32 bits as JS numbers,
 * int64/uint64 as BigInts (exact), bools as 0/1, strings as strings.
 */
export type ElementClass = 'float' | 'int' | 'bigint' | 'bool' | 'string';

export function elementClassOf(dtype: DType): ElementClass {
  if (dtype === 'int64' || dtype === 'uint64') return 'bigint';
  const category = dtypeInfo(dtype).category;
  switch (category) {
    case 'float':
      return 'float';
    case 'signed':
    case 'unsigned':
      return 'int';
    case 'bool':
      return 'bool';
    case 'string':
      return 'string';
    default:
      return 'float';
  }
}

/** Dtype lists used by schemas' docs and kernels' checks. */
export const FLOAT_DTYPES: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16'];
export const SIGNED_DTYPES: readonly DType[] = ['int8', 'int16', 'int32', 'int64'];
export const UNSIGNED_DTYPES: readonly DType[] = ['uint8', 'uint16', 'uint32', 'uint64'];
export const NUMERIC_DTYPES: readonly DType[] = [...FLOAT_DTYPES, ...SIGNED_DTYPES, ...UNSIGNED_DTYPES];
