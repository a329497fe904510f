import { Tensor, tensorType, type Dim, type Value } from '@modelpass/ir';
import { dimsOf, type TfliteEmitter } from '../lowering-tools.js';

/**
 * Shape operands for RESHAPEs that merge or split axes of tensors with unknown (symbolic) dims, as
 * the rank-reducing rules need them (rank-6 Transposes, rank-5 broadcasts): a constant when the
 * target has at most one unknown dim (TFLite's RESHAPE takes one -1), else computed from the
 * tensor's SHAPE at run time.
 */

/** The size of adjacent dims merged into one: their product when all are known, the one unknown dim itself when the rest are 1s, else unknown. */
export function mergedDim(dims: readonly Dim[]): Dim {
  let product = 1;
  let unknown: Dim = null;
  let unknowns = 0;
  for (const dim of dims) {
    if (typeof dim === 'number') product *= dim;
    else {
      unknowns++;
      unknown = dim;
    }
  }
  if (unknowns === 0) return product;
  return unknowns === 1 && product === 1 ? unknown : null;
}

function unknownCount(dims: readonly Dim[]): number {
  let count = 0;
  for (const dim of dims) if (typeof dim !== 'number') count++;
  return count;
}

/**
 * Whether a RESHAPE of a tensor of `dims` to `groups` (each group the input axes merged into one
 * output axis, in order; an empty group is an axis of 1) can be said: known or one unknown merged
 * dim (a constant shape with -1), or at most one unknown dim in each group (a shape computed from
 * SHAPE at run time).
 */
export function canSayMergedShape(dims: readonly Dim[], groups: readonly (readonly number[])[]): boolean {
  const merged = groups.map((group) => mergedDim(group.map((axis) => dims[axis]!)));
  if (unknownCount(merged) <= 1) return true;
  return groups.every((group) => unknownCount(group.map((axis) => dims[axis]!)) <= 1);
}

/**
 * The shape operand of a RESHAPE of `value` (dims `dims`) to `groups` (see `canSayMergedShape`,
 * which must hold): a constant, or GATHER(CONCATENATION(SHAPE(value), [1]), one axis per group)
 * times each group's known product.
 */
export function mergedShapeOperand(emit: TfliteEmitter, value: Value, dims: readonly Dim[], groups: readonly (readonly number[])[], name: string): Value {
  const merged = groups.map((group) => mergedDim(group.map((axis) => dims[axis]!)));
  return shapeOperandFor(emit, merged, name, () => {
    const rank = dims.length;
    const indices: number[] = [];
    const products: number[] = [];
    for (const group of groups) {
      let index = rank; // the appended 1
      let product = 1;
      for (const axis of group) {
        const dim = dims[axis]!;
        if (typeof dim === 'number') product *= dim;
        else index = axis;
      }
      indices.push(index);
      products.push(product);
    }
    const shape = runTimeShape(emit, value, [...dims.keys()], name);
    const extended = emit.op1('CONCATENATION', [shape, emit.int32([1], [1], `${name}_one`)], { axis: 0, fused_activation_function: 'NONE' }, tensorType('int32', [rank + 1]));
    const picked = emit.op1('GATHER', [extended, emit.int32(indices, [indices.length], `${name}_axes`)], { axis: 0, batch_dims: 0 }, tensorType('int32', [indices.length]));
    if (products.every((product) => product === 1)) return picked;
    return emit.op1('MUL', [picked, emit.int32(products, [products.length], `${name}_products`)], { fused_activation_function: 'NONE' }, tensorType('int32', [indices.length]));
  });
}

/** A RESHAPE target for `dims`: a constant when at most one is unknown (as -1), else `atRunTime()`. */
export function shapeOperandFor(emit: TfliteEmitter, dims: readonly Dim[], name: string, atRunTime: () => Value): Value {
  if (unknownCount(dims) > 1) return atRunTime();
  const target = dims.map((dim) => (typeof dim === 'number' ? dim : -1));
  return emit.int32(target, [target.length], name);
}

/** SHAPE(value) as int32, its entries picked by `axes` (the whole vector when `axes` is the identity). */
export function runTimeShape(emit: TfliteEmitter, value: Value, axes: readonly number[], name: string): Value {
  const rank = dimsOf(value)!.length;
  const shape = emit.op1('SHAPE', [value], { out_type: 'INT32' }, tensorType('int32', [rank]));
  if (axes.length === rank && axes.every((axis, i) => axis === i)) return shape;
  return emit.op1('GATHER', [shape, emit.constant(Tensor.fromValues('int32', [axes.length], [...axes]), name)], { axis: 0, batch_dims: 0 }, tensorType('int32', [axes.length]));
}
