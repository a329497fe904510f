/** Python's rules for values known while importing (ints, floats, bools, strings, None, lists). */
import type { ScriptValue } from './script-value.js';

/**
 * The longest list or tuple (items) and string (characters) the importer builds while running a module's
 * code: `l = l + l` forty times would otherwise grow until the process dies. Real models stay far below.
 */
export const MAX_SCRIPT_LIST_ITEMS = 1 << 20;
export const MAX_SCRIPT_STRING_LENGTH = 1 << 24;

/** Why `op` on two known values would build a list or string over the limits, or undefined. */
export function oversizedResult(op: string, left: ScriptValue, right: ScriptValue): string | undefined {
  if (op !== '+') return undefined;
  if ((left.kind === 'list' || left.kind === 'tuple') && (right.kind === 'list' || right.kind === 'tuple') && left.items.length + right.items.length > MAX_SCRIPT_LIST_ITEMS) {
    return `a ${left.kind} of ${left.items.length + right.items.length} items, more than the importer builds (${MAX_SCRIPT_LIST_ITEMS})`;
  }
  if (left.kind === 'str' && right.kind === 'str' && left.value.length + right.value.length > MAX_SCRIPT_STRING_LENGTH) {
    return `a string of ${left.value.length + right.value.length} characters, more than the importer builds (${MAX_SCRIPT_STRING_LENGTH})`;
  }
  return undefined;
}

type Known = ScriptValue & { kind: 'int' | 'float' | 'bool' };

function isNumber(value: ScriptValue): value is Known {
  return value.kind === 'int' || value.kind === 'float' || value.kind === 'bool';
}

export function truthy(value: ScriptValue): boolean {
  switch (value.kind) {
    case 'none':
    case 'uninitialized':
      return false;
    case 'bool':
      return value.value;
    case 'int':
    case 'float':
      return value.value !== 0;
    case 'str':
      return value.value.length > 0;
    case 'list':
    case 'tuple':
      return value.items.length > 0;
    case 'dict':
      return value.entries.length > 0;
    default:
      return true;
  }
}

function numeric(value: number, integral: boolean): ScriptValue {
  return integral ? { kind: 'int', value } : { kind: 'float', value };
}

/** `left op right` when both are known; undefined when a tensor is involved (the caller lowers it). */
export function pythonBinary(op: string, left: ScriptValue, right: ScriptValue): ScriptValue | undefined {
  if (op === 'is' || op === 'is not') {
    const same = left.kind === right.kind && (left.kind !== 'tensor' || (right.kind === 'tensor' && left.value === right.value));
    const result = left.kind === 'none' || right.kind === 'none' ? left.kind === right.kind : same;
    return { kind: 'bool', value: op === 'is' ? result : !result };
  }
  if ((op === 'in' || op === 'not in') && (right.kind === 'list' || right.kind === 'tuple')) {
    const found = right.items.some((item) => pythonEquals(item, left));
    return { kind: 'bool', value: op === 'in' ? found : !found };
  }
  if (left.kind === 'str' && right.kind === 'str') {
    if (op === '==' || op === '!=') return { kind: 'bool', value: (left.value === right.value) === (op === '==') };
    if (op === '+') return { kind: 'str', value: left.value + right.value };
  }
  if ((op === '==' || op === '!=') && (left.kind === 'none' || right.kind === 'none')) {
    return { kind: 'bool', value: (left.kind === right.kind) === (op === '==') };
  }
  if ((left.kind === 'list' || left.kind === 'tuple') && (right.kind === 'list' || right.kind === 'tuple')) {
    if (op === '+') return { kind: left.kind, items: [...left.items, ...right.items] };
    if (op === '==' || op === '!=') return { kind: 'bool', value: pythonEquals(left, right) === (op === '==') };
  }
  if (left.kind === 'tensor' && right.kind === 'tensor' && left.value === right.value && left.scalarInt && (op === '==' || op === '!=')) {
    return { kind: 'bool', value: op === '==' };
  }
  if (!isNumber(left) || !isNumber(right)) return undefined;
  const a = Number(left.value);
  const b = Number(right.value);
  const integral = left.kind !== 'float' && right.kind !== 'float';
  switch (op) {
    case '+':
      return numeric(a + b, integral);
    case '-':
      return numeric(a - b, integral);
    case '*':
      return numeric(a * b, integral);
    case '/':
      return { kind: 'float', value: a / b };
    case '//':
      return numeric(Math.floor(a / b), integral);
    case '%':
      return numeric(a - b * Math.floor(a / b), integral);
    case '**':
      return numeric(a ** b, integral && b >= 0);
    case '==':
      return { kind: 'bool', value: a === b };
    case '!=':
      return { kind: 'bool', value: a !== b };
    case '<':
      return { kind: 'bool', value: a < b };
    case '>':
      return { kind: 'bool', value: a > b };
    case '<=':
      return { kind: 'bool', value: a <= b };
    case '>=':
      return { kind: 'bool', value: a >= b };
    case '&':
      return integral ? numeric(a & b, true) : undefined;
    case '|':
      return integral ? numeric(a | b, true) : undefined;
  }
  return undefined;
}

export function pythonUnary(op: string, operand: ScriptValue): ScriptValue | undefined {
  if (op === 'not' && operand.kind !== 'tensor') return { kind: 'bool', value: !truthy(operand) };
  if (!isNumber(operand)) return undefined;
  const value = Number(operand.value);
  if (op === '-') return numeric(-value, operand.kind !== 'float');
  if (op === '+') return numeric(value, operand.kind !== 'float');
  if (op === '~' && operand.kind !== 'float') return numeric(~value, true);
  return undefined;
}

export function pythonEquals(a: ScriptValue, b: ScriptValue): boolean {
  if (isNumber(a) && isNumber(b)) return Number(a.value) === Number(b.value);
  if (a.kind === 'tensor' && b.kind === 'tensor' && a.scalarInt && a.value === b.value) return true;
  if (a.kind === 'str' && b.kind === 'str') return a.value === b.value;
  if (a.kind === 'none' || b.kind === 'none') return a.kind === b.kind;
  if ((a.kind === 'list' || a.kind === 'tuple') && (b.kind === 'list' || b.kind === 'tuple')) {
    return a.items.length === b.items.length && a.items.every((item, i) => pythonEquals(item, b.items[i]!));
  }
  return false;
}
