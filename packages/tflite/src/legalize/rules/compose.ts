import { Tensor, tensorType, type DType, type Dim, type Node, type Type, type Value } from '@modelpass/ir';
import { dimsOf, tensorTypeName, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';

/**
 * A small vocabulary for ops written as several elementwise builtins on values of one shape
 * (`dims`): scalars broadcast, everything else has the working shape. TFLite 2.9's broadcasting
 * kernels (comparisons, SELECT_V2, FLOOR_MOD…) abort beyond 4-D, so `elementwiseInput` flattens a
 * rank > 4 operand first and `restore` gives the result its shape back.
 */
export class Composer {
  constructor(
    readonly emit: TfliteEmitter,
    readonly dims: readonly Dim[],
    readonly dtype: DType,
  ) {}

  type(dtype: DType = this.dtype, dims: readonly Dim[] = this.dims): Type {
    return tensorType(dtype, dims);
  }

  scalar(value: number, dtype: DType = this.dtype): Value {
    const tensor = dtype === 'int64' ? Tensor.fromValues('int64', [], [BigInt(value)]) : Tensor.fromValues(dtype, [], [value]);
    return this.emit.constant(tensor, `${dtype}_${String(value).replace(/[^0-9a-z]/gi, '_')}`);
  }

  unary(builtin: string, x: Value, dtype: DType = this.dtype): Value {
    return this.emit.op1(builtin, [x], {}, this.type(dtype));
  }

  /** A binary builtin; ADD/SUB/MUL/DIV get their `fused_activation_function`. */
  binary(builtin: string, a: Value, b: Value, dtype: DType = this.dtype): Value {
    const fusible = ['ADD', 'SUB', 'MUL', 'DIV'].includes(builtin);
    return this.emit.op1(builtin, [a, b], fusible ? { fused_activation_function: 'NONE' } : {}, this.type(dtype));
  }

  add(a: Value, b: Value): Value {
    return this.binary('ADD', a, b);
  }

  sub(a: Value, b: Value): Value {
    return this.binary('SUB', a, b);
  }

  mul(a: Value, b: Value): Value {
    return this.binary('MUL', a, b);
  }

  div(a: Value, b: Value): Value {
    return this.binary('DIV', a, b);
  }

  compare(builtin: 'LESS' | 'GREATER' | 'EQUAL' | 'NOT_EQUAL' | 'GREATER_EQUAL' | 'LESS_EQUAL', a: Value, b: Value): Value {
    return this.binary(builtin, a, b, 'bool');
  }

  select(condition: Value, whenTrue: Value, whenFalse: Value): Value {
    const dtype = tensorTypeOf(whenTrue)?.dtype ?? this.dtype;
    return this.emit.op1('SELECT_V2', [condition, whenTrue, whenFalse], {}, this.type(dtype));
  }

  cast(x: Value, to: DType): Value {
    const from = tensorTypeOf(x)!.dtype;
    return this.emit.op1('CAST', [x], { in_data_type: tensorTypeName(from)!, out_data_type: tensorTypeName(to)! }, tensorType(to, dimsOf(x) ?? this.dims));
  }
}

/** A RESHAPE target for `dims`: static dims as they are, at most one unknown as -1 (undefined when more). */
export function reshapeTarget(dims: readonly Dim[]): number[] | undefined {
  if (dims.filter((d) => typeof d !== 'number').length > 1) return undefined;
  return dims.map((d) => (typeof d === 'number' ? d : -1));
}

/** Why a composite over `value` cannot be written: rank > 4 with more than one unknown dim (it cannot be flattened). */
export function flattenProblem(value: Value | null | undefined): string | undefined {
  const dims = dimsOf(value);
  if (!dims) return 'needs the input shape (run shape inference first)';
  return dims.length > 4 && !reshapeTarget(dims) ? 'a rank > 4 input with more than one unknown dim cannot be flattened for TFLite 2.9 (its broadcasting kernels stop at 4-D)' : undefined;
}

/**
 * The operand of an elementwise composite and how to give the result the node's output shape:
 * rank ≤ 4 values are used as they are; higher ranks are flattened to one axis (RESHAPE) and the
 * result reshaped back.
 */
export function elementwiseInput(node: Node, emit: TfliteEmitter, x: Value, dtype: DType): { composer: Composer; x: Value; restore: (y: Value) => Value } {
  const dims = dimsOf(x)!;
  if (dims.length <= 4) return { composer: new Composer(emit, dims, dtype), x, restore: (y) => y };
  const size = dims.every((d) => typeof d === 'number') ? (dims as number[]).reduce((n, d) => n * d, 1) : `${node.name}_flat`;
  const flat = emit.op1('RESHAPE', [x, emit.int32([-1], [1], 'flat')], {}, tensorType(tensorTypeOf(x)!.dtype, [size]));
  const composer = new Composer(emit, [size], dtype);
  return {
    composer,
    x: flat,
    restore: (y) => {
      const outDims = dimsOf(node.outputs[0]) ?? dims;
      return emit.op1('RESHAPE', [y, emit.int32(reshapeTarget(outDims)!, [outDims.length], 'shape')], {}, tensorType(tensorTypeOf(y)!.dtype, outDims));
    },
  };
}
