import {
  Builder,
  isTensorType,
  ModelpassError,
  Tensor,
  tensorType,
  toAttributes,
  type Attribute,
  type AttributeInits,
  type DType,
  type Dim,
  type Node,
  type TensorType,
  type Type,
  type Value,
} from '@modelpass/ir';
import type { LoweringContext } from './lowering-rule.js';

/** TFLite's TensorType enum names for the IR dtypes it has. */
const TENSOR_TYPE_NAMES: Partial<Record<DType, string>> = {
  float32: 'FLOAT32',
  float16: 'FLOAT16',
  float64: 'FLOAT64',
  int32: 'INT32',
  uint8: 'UINT8',
  int64: 'INT64',
  string: 'STRING',
  bool: 'BOOL',
  int16: 'INT16',
  int8: 'INT8',
  uint32: 'UINT32',
  uint16: 'UINT16',
  uint64: 'UINT64',
  int4: 'INT4',
  bfloat16: 'BFLOAT16',
  complex64: 'COMPLEX64',
  complex128: 'COMPLEX128',
};

export function tensorTypeName(dtype: DType): string | undefined {
  return TENSOR_TYPE_NAMES[dtype];
}

/** The declared tensor type of a value, or undefined. */
export function tensorTypeOf(value: Value | null | undefined): TensorType | undefined {
  return value && isTensorType(value.type) ? value.type : undefined;
}

export function dimsOf(value: Value | null | undefined): readonly Dim[] | undefined {
  return tensorTypeOf(value)?.shape ?? undefined;
}

export function rankOfValue(value: Value | null | undefined): number | undefined {
  return dimsOf(value)?.length;
}

/** Static dims, or undefined when one is symbolic or unknown. */
export function staticDims(value: Value | null | undefined): number[] | undefined {
  const dims = dimsOf(value);
  return dims && dims.every((d) => typeof d === 'number') ? (dims as number[]) : undefined;
}

export function typeWithShape(type: Type, shape: readonly Dim[]): Type {
  return isTensorType(type) ? tensorType(type.dtype, shape, type.quant) : tensorType('float32', shape);
}

/**
 * `tflite.<builtin>` and its lower-case name suffix, built once per builtin: a fresh op string per node
 * would be hashed again by every registry and op-name lookup it goes through.
 */
const BUILTIN_NAMES = new Map<string, { readonly op: string; readonly suffix: string }>();
function builtinNames(builtin: string): { readonly op: string; readonly suffix: string } {
  let names = BUILTIN_NAMES.get(builtin);
  if (!names) {
    names = { op: `tflite.${builtin}`, suffix: `_${builtin.toLowerCase()}` };
    if (BUILTIN_NAMES.size >= 1024) BUILTIN_NAMES.clear(); // builtins are a fixed set; a bound all the same
    BUILTIN_NAMES.set(builtin, names);
  }
  return names;
}

/** Creates tflite ops just before `node`, typing plain attribute values by the dialect's schemas. */
export class TfliteEmitter {
  readonly at: Builder;

  constructor(
    readonly node: Node,
    private readonly context: LoweringContext,
  ) {
    this.at = Builder.before(node, { registry: context.registry });
  }

  /**
   * Plain attribute values typed once by `builtin`'s schema, for a rule that creates many ops with the same
   * attributes (a grouped convolution's CONV_2D per group): each op then takes them as they are.
   */
  attributes(builtin: string, attributes: AttributeInits): Record<string, Attribute> {
    const op = builtinNames(builtin).op;
    return toAttributes(op, attributes, this.context.registry.get(op));
  }

  /** `tflite.<builtin>` with `inputs` and attributes, returning the node (output types as given). */
  op(builtin: string, inputs: readonly (Value | null)[], attributes: AttributeInits, types: readonly Type[]): Node {
    const names = builtinNames(builtin);
    return this.at.create(names.op, inputs, attributes, { types, name: this.node.name + names.suffix });
  }

  op1(builtin: string, inputs: readonly (Value | null)[], attributes: AttributeInits, type: Type): Value {
    return this.op(builtin, inputs, attributes, [type]).output(0);
  }

  int32(values: readonly number[], shape: readonly number[] = [values.length], name = 'i32'): Value {
    return this.at.constant(Tensor.fromValues('int32', shape, values), `${this.node.name}_${name}`);
  }

  constant(tensor: Tensor, name: string): Value {
    return this.at.constant(tensor, `${this.node.name}_${name}`);
  }
}

/** Replaces `node`'s outputs by `values` (graph outputs keep their names) and erases it. */
export function replaceNode(node: Node, values: readonly (Value | null)[]): void {
  // Loops, not closures: every lowered node ends here.
  const outputs = node.outputs;
  for (let index = 0; index < outputs.length; index++) {
    const output = outputs[index];
    const value = values[index];
    if (output && value && output !== value) {
      if (isTensorType(output.type) && !isTensorType(value.type)) value.type = output.type;
      output.replaceAllUsesWith(value);
    }
  }
  for (let index = 0; index < outputs.length; index++) if (outputs[index]?.hasUses) return;
  node.erase();
}

/** A located error for a node the rules accepted but could not lower (a bug, not bad input). */
export function loweringError(node: Node, reason: string): ModelpassError {
  return new ModelpassError({ reason: `cannot lower to TFLite: ${reason}`, location: node.location, source: '@modelpass/tflite' });
}

/** Normalizes an axis into `[0, rank)`, or undefined when out of range. */
export function normalizeAxis(axis: number, rank: number): number | undefined {
  const value = axis < 0 ? axis + rank : axis;
  return value >= 0 && value < rank ? value : undefined;
}
