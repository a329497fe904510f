/** `type` with another element dtype (and, when given, another shape), as a plain (unquantized) tensor type. */
import type { DType, Type } from '@modelpass/ir';

export function withDtype(type: Type, dtype: DType, shape?: readonly (number | string | null)[] | null): Type {
  if (type.kind !== 'tensor') return type;
  return { ...type, dtype, quant: undefined, ...(shape !== undefined ? { shape } : {}) } as Type;
}
