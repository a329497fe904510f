/** torch's ScalarType codes (as TorchScript prints `torch.to(x, 6)`) ↔ IR dtypes, and Cast helpers. */
import { isFloatDType, onnxCodeOf, type DType } from '@modelpass/ir';
import type { ScriptValue } from '../script-value.js';
import type { LoweringContext, TensorValue } from '../lowering.js';

/** c10::ScalarType numbering. */
const TORCH_SCALAR_TYPES: Readonly<Record<number, DType>> = {
  0: 'uint8', 1: 'int8', 2: 'int16', 3: 'int32', 4: 'int64', 5: 'float16', 6: 'float32', 7: 'float64', 11: 'bool', 15: 'bfloat16',
};

export function torchScalarTypeCode(dtype: DType): number | undefined {
  for (const [code, name] of Object.entries(TORCH_SCALAR_TYPES)) if (name === dtype) return Number(code);
  return undefined;
}

/** A `dtype` argument (an int code; None → `fallback`). */
export function dtypeArgument(ctx: LoweringContext, value: ScriptValue, what: string, fallback: DType | undefined): DType | undefined {
  if (value.kind === 'none') return fallback;
  const code = ctx.int(value, what);
  return TORCH_SCALAR_TYPES[code] ?? ctx.fail(`${what} code ${code} (a torch ScalarType) is not supported`);
}

export function isFloat(dtype: DType | undefined): boolean {
  return dtype !== undefined && isFloatDType(dtype);
}

/**
 * `x` converted to `dtype` the way torch converts: float → integer truncates toward zero (ONNX
 * Cast does too), anything → bool is "nonzero", bool → number is 0/1.
 */
export function castTo(ctx: LoweringContext, x: TensorValue, dtype: DType): TensorValue {
  if (x.dtype === dtype) return x;
  if (x.dtype === undefined) return ctx.fail(`the dtype of the tensor converted to ${dtype} is not known while importing`);
  const result = ctx.emit('Cast', [x.value], { to: onnxCodeOf(dtype) }, { rank: x.rank, dtype, shape: x.shape });
  return result;
}

/** torch's result dtype of an op on two tensors of (possibly) different dtypes, for the common categories. */
export function promote(a: DType | undefined, b: DType | undefined): DType | undefined {
  if (a === undefined || b === undefined || a === b) return a ?? b;
  const order: DType[] = ['bool', 'uint8', 'int8', 'int16', 'int32', 'int64', 'float16', 'float32', 'float64'];
  return order.indexOf(a) >= order.indexOf(b) ? a : b;
}
