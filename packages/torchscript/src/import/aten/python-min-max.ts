/**
 * Python's `min`/`max` of numbers as TorchScript prints them: `ops.prim.min([a, b])`, `ops.prim.min(a, b)` (and
 * `prim.max`). A `for i in range(len(xs))` over a list comprehension with `enumerate` is printed as
 * `range(ops.prim.min([9223372036854775807, len(xs)]))`. Known numbers are computed while importing; a symbolic int
 * (a size read from a tensor) takes part as an int64 Min/Max node, itself a symbolic int.
 */
import { describeValue, type ScriptValue } from '../script-value.js';
import type { AtenLowering, LoweringContext } from '../lowering.js';

type PythonNumber = ScriptValue & { kind: 'int' | 'float' | 'bool' };

function extremum(kind: 'min' | 'max'): AtenLowering {
  return (ctx) => {
    const first = ctx.arg(0);
    const items = ctx.argCount === 1 && (first.kind === 'list' || first.kind === 'tuple') ? first.items : Array.from({ length: ctx.argCount }, (_, i) => ctx.arg(i));
    if (items.length === 0) return ctx.fail(`${kind}() of an empty sequence`);
    const known = items.filter((item): item is PythonNumber => item.kind === 'int' || item.kind === 'float' || item.kind === 'bool');
    const symbolic = items.filter((item) => item.kind === 'tensor' && item.scalarInt);
    if (known.length + symbolic.length !== items.length) {
      const other = items.find((item) => !known.includes(item as PythonNumber) && !symbolic.includes(item))!;
      return ctx.fail(`${kind}() is read over numbers and sizes only, got ${describeValue(other)}`);
    }
    const pick = kind === 'min' ? Math.min : Math.max;
    const isFloat = known.some((item) => item.kind === 'float');
    const folded = known.length > 0 ? pick(...known.map((item) => Number(item.value))) : undefined;
    if (symbolic.length === 0) return isFloat ? { kind: 'float', value: folded! } : { kind: 'int', value: folded! };
    if (isFloat) return ctx.fail(`${kind}() of a float and a size computed at run time`);
    return symbolicExtremum(ctx, kind, symbolic, folded);
  };
}

/** Min/Max of int64 scalars: the sizes computed at run time and the known part folded to one constant. */
function symbolicExtremum(ctx: LoweringContext, kind: 'min' | 'max', symbolic: ScriptValue[], folded: number | undefined): ScriptValue {
  const operands = symbolic.map((item) => ctx.tensor(item, `${kind}() argument`).value);
  // The int64 maximum (TorchScript's stand-in for "no bound") cannot change a min, nor the int64 minimum a max.
  const bound = kind === 'min' ? Number.MAX_SAFE_INTEGER : -Number.MAX_SAFE_INTEGER;
  if (folded !== undefined && (kind === 'min' ? folded < bound : folded > bound)) operands.push(ctx.scalarConstant('int64', folded).value);
  if (operands.length === 1) return symbolic[0]!;
  return { ...ctx.emit(kind === 'min' ? 'Min' : 'Max', operands, {}, { rank: 0, dtype: 'int64' }), scalarInt: true };
}

export const pythonMinMaxLowerings: ReadonlyArray<[string, AtenLowering]> = [
  ['prim_min', extremum('min')],
  ['prim_max', extremum('max')],
];
