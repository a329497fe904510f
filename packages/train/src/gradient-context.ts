/**
 * The emitter that gradient rules and loss builders write ONNX nodes through: opset-aware reductions
 * and squeezes, shape helpers, typed constants of the model's float dtype, and `unbroadcast` (the
 * gradient of numpy broadcasting: sum over broadcast axes, then reshape to the operand's shape).
 */
import { attrs, Builder, ModelpassError, Tensor, type Attribute, type DType, type Graph, type Model, type Node, type TensorType, type Value } from '@modelpass/ir';

export type AttributeValues = Readonly<Record<string, Attribute | number | string | readonly number[] | undefined>>;

export class GradientContext {
  readonly graph: Graph;
  private readonly builder: Builder;
  private readonly shapes = new Map<Value, Value>();

  constructor(
    readonly model: Model,
    /** The float dtype of the training graph (the loss's dtype). */
    readonly floatType: DType,
    /** Where nodes go (default: the end of the main graph). */
    builder?: Builder,
  ) {
    this.graph = model.graph;
    this.builder = builder ?? Builder.atEnd(model.graph);
  }

  get opset(): number {
    return this.model.opset('onnx') ?? 0;
  }

  /** Emits one node and returns its outputs (plain numbers become ints; pass `attrs.float` for floats). */
  emit(op: string, inputs: readonly (Value | null)[], attributes: AttributeValues = {}, outputs = 1): Value[] {
    const typed: Record<string, Attribute> = {};
    for (const [name, value] of Object.entries(attributes)) {
      if (value === undefined) continue;
      if (typeof value === 'number') typed[name] = attrs.int(value);
      else if (typeof value === 'string') typed[name] = attrs.string(value);
      else if (Array.isArray(value)) typed[name] = attrs.ints(value as number[]);
      else typed[name] = value as Attribute;
    }
    const node = this.builder.create(`onnx.${op}`, inputs, typed, { outputs });
    return node.outputs.map((v) => v!);
  }

  op(op: string, inputs: readonly (Value | null)[], attributes: AttributeValues = {}): Value {
    return this.emit(op, inputs, attributes)[0]!;
  }

  /** A float constant of the training dtype. */
  scalar(value: number, dtype: DType = this.floatType): Value {
    return this.builder.constant(Tensor.scalar(dtype, dtype === 'int64' ? BigInt(value) : value), 'grad_const');
  }

  ints(values: readonly number[], name = 'grad_ints'): Value {
    return this.builder.constant(Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v))), name);
  }

  /** `Shape(value)`, emitted once per value. */
  shapeOf(value: Value): Value {
    let shape = this.shapes.get(value);
    if (!shape) {
      shape = this.op('Shape', [value]);
      this.shapes.set(value, shape);
    }
    return shape;
  }

  /** The value's tensor type with a known rank, or a located error. */
  typeOf(value: Value, node?: Node): TensorType & { shape: readonly (number | string | null)[] } {
    const type = value.type;
    if (type.kind !== 'tensor' || type.shape === null) {
      throw new ModelpassError({
        reason: `autodiff needs the rank of '${value.name}'${node ? ` (input of ${node.op} '${node.name}')` : ''}, which shape inference could not find`,
        hint: 'give the graph inputs static ranks',
        source: '@modelpass/train',
      });
    }
    return type as TensorType & { shape: readonly (number | string | null)[] };
  }

  rankOf(value: Value, node?: Node): number {
    return this.typeOf(value, node).shape.length;
  }

  /** Static dims of a value from axis `from` on (the batch axis may stay symbolic with `from = 1`), or a located error. */
  staticShape(value: Value, node: Node, from = 0): number[] {
    const shape = this.typeOf(value, node).shape;
    if (!shape.slice(from).every((d): d is number => typeof d === 'number')) {
      throw ruleError(node, `needs the static shape of '${value.name}' (has [${shape.join(',')}])`);
    }
    return shape as number[];
  }

  reduceSum(x: Value, axes: readonly number[], keepdims: boolean): Value {
    if (axes.length === 0) return x;
    if (this.opset >= 13) return this.op('ReduceSum', [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 });
    return this.op('ReduceSum', [x], { axes, keepdims: keepdims ? 1 : 0 });
  }

  reduceMean(x: Value, axes: readonly number[], keepdims: boolean): Value {
    if (this.opset >= 18) return this.op('ReduceMean', [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 });
    return this.op('ReduceMean', [x], { axes, keepdims: keepdims ? 1 : 0 });
  }

  unsqueeze(x: Value, axes: readonly number[]): Value {
    if (axes.length === 0) return x;
    if (this.opset >= 13) return this.op('Unsqueeze', [x, this.ints(axes)]);
    return this.op('Unsqueeze', [x], { axes });
  }

  reshapeLike(x: Value, like: Value): Value {
    return this.op('Reshape', [x, this.shapeOf(like)]);
  }

  reshape(x: Value, dims: readonly number[]): Value {
    return this.op('Reshape', [x, this.ints(dims)]);
  }

  transpose(x: Value, perm: readonly number[]): Value {
    return this.op('Transpose', [x], { perm });
  }

  /** Zeros shaped like `value`, of its dtype. */
  zerosLike(value: Value): Value {
    const dtype = this.typeOf(value).dtype;
    return this.op('ConstantOfShape', [this.shapeOf(value)], { value: attrs.tensor(Tensor.fromValues(dtype, [1], [0])) });
  }

  /** The number of elements of `value` as a scalar of the training dtype. */
  sizeAsFloat(value: Value): Value {
    return this.op('Cast', [this.op('Size', [value])], { to: dtypeCode(this.floatType) });
  }

  /**
   * Sums `grad` (shaped like the broadcast result `resultShape`) down to the shape of `operand`:
   * the leading axes the operand lacks and the axes where the operand has size 1.
   */
  unbroadcast(grad: Value, operand: Value, result: Value, node: Node): Value {
    const target = this.typeOf(operand, node).shape;
    const full = this.typeOf(result, node).shape;
    const lead = full.length - target.length;
    const axes: number[] = [];
    for (let axis = 0; axis < full.length; axis++) {
      if (axis < lead) { axes.push(axis); continue; }
      const t = target[axis - lead];
      const f = full[axis];
      if (t === f) continue;
      if (t === 1) { axes.push(axis); continue; }
      if (typeof t === 'number' && typeof f === 'number') {
        throw ruleError(node, `cannot broadcast '${operand.name}' [${target.join(',')}] to [${full.join(',')}]`);
      }
      if (typeof t === 'string' && typeof f === 'string') {
        throw ruleError(node, `'${operand.name}' has dim ${t} where the result has ${f}; autodiff cannot tell whether it broadcasts`);
      }
    }
    if (axes.length === 0 && lead === 0) return grad;
    return this.reshapeLike(this.reduceSum(grad, axes, true), operand);
  }
}

export function ruleError(node: Node, reason: string): ModelpassError {
  return new ModelpassError({ reason: `autodiff of ${node.op} '${node.name}': ${reason}`, source: '@modelpass/train' });
}

const DTYPE_CODES: Partial<Record<DType, number>> = { float32: 1, float16: 10, float64: 11, bfloat16: 16 };

export function dtypeCode(dtype: DType): number {
  const code = DTYPE_CODES[dtype];
  if (code === undefined) throw new ModelpassError({ reason: `autodiff supports float dtypes, not ${dtype}`, source: '@modelpass/train' });
  return code;
}
