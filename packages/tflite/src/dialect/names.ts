import { BUILTIN_OPERATORS } from '../generated/schema-tables.js';

/** The dialect (and ONNX-style domain) of TFLite ops in the IR: `tflite.CONV_2D`, `tflite.CUSTOM`, … */
export const TFLITE_DIALECT = 'tflite';

/** The IR op name of a BuiltinOperator: `CONV_2D` → `tflite.CONV_2D`. */
export function tfliteOpName(builtin: string): string {
  return `${TFLITE_DIALECT}.${builtin}`;
}

/** The BuiltinOperator of an IR op (`tflite.CONV_2D` → `CONV_2D`), or undefined for any other op. */
export function builtinOfOp(op: string): string | undefined {
  if (!op.startsWith(`${TFLITE_DIALECT}.`)) return undefined;
  const builtin = op.slice(TFLITE_DIALECT.length + 1);
  return Object.hasOwn(BUILTIN_OPERATORS, builtin) ? builtin : undefined;
}

/** Every BuiltinOperator name the schema knows (210 in revision 3d). */
export function builtinOperatorNames(): string[] {
  return Object.keys(BUILTIN_OPERATORS);
}

/** The code of a BuiltinOperator name, or undefined. */
export function builtinCode(builtin: string): number | undefined {
  return Object.hasOwn(BUILTIN_OPERATORS, builtin) ? BUILTIN_OPERATORS[builtin]!.code : undefined;
}

/** The BuiltinOperator name of a code, or undefined. */
export function builtinNameOfCode(code: number): string | undefined {
  return CODE_TO_NAME.get(code);
}

const CODE_TO_NAME = new Map<number, string>(Object.entries(BUILTIN_OPERATORS).map(([name, info]) => [info.code, name]));
