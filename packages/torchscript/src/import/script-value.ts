/**
 * Values the symbolic TorchScript interpreter works with. Python scalars, lists and modules are
 * known while importing (partial evaluation); a tensor is an IR value of the graph being built, and
 * a size read from a tensor whose shape is not static is a `tensor` too (an int64 scalar).
 */
import type { Dim, DType, Value } from '@modelpass/ir';
import type { PickleValue } from '../pickle/pickle-value.js';
import type { FunctionDef } from '../script/ast.js';

export type ScriptValue =
  | { kind: 'none' }
  | { kind: 'bool'; value: boolean }
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'str'; value: string }
  | { kind: 'list'; items: ScriptValue[] }
  | { kind: 'tuple'; items: ScriptValue[] }
  | { kind: 'dict'; entries: Array<[ScriptValue, ScriptValue]> }
  /**
   * An IR value. `rank` when known; `scalarInt` marks a symbolic Python int (an int64 scalar), and
   * `symbol` the dim it was read from (`batch`), so sizes of the same dim are one value everywhere.
   */
  | { kind: 'tensor'; value: Value; rank?: number; dtype?: DType; scalarInt?: boolean; symbol?: string; shape?: readonly Dim[] }
  /** A module instance from data.pkl, `path` its attribute path from the root (`features.0`). */
  | { kind: 'module'; className: string; state: PickleValue; path: string }
  /** A method bound to a module. */
  | { kind: 'method'; self: ScriptValue & { kind: 'module' }; def: FunctionDef }
  /** A dotted global (`torch.conv2d`, `ops.aten.add`, `__torch__.torch.nn.functional.relu`). */
  | { kind: 'global'; path: string }
  /** A value that is never read in the paths inference takes (`uninitialized(T)`). */
  | { kind: 'uninitialized' };

export const NONE: ScriptValue = Object.freeze({ kind: 'none' });

export function describeValue(value: ScriptValue): string {
  switch (value.kind) {
    case 'tensor':
      return value.scalarInt ? 'int (computed)' : 'Tensor';
    case 'module':
      return `module ${value.className}`;
    case 'global':
      return value.path;
    case 'list':
    case 'tuple':
      return `${value.kind}[${value.items.length}]`;
    default:
      return value.kind;
  }
}
