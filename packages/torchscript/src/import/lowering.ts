/**
 * What an aten lowering sees: its arguments as script values and a context that emits canonical
 * (ONNX-semantics) nodes into the graph being built. Lowerings are registered by aten name in
 * `aten-registry.ts`; `torch.X(...)` and `ops.aten.X(...)` both look up `X`.
 */
import { isInferenceRefusal, Tensor, tensorType, toAttributes, type AttributeInits, type Dim, type DType, type GraphBuilder, type InferenceRefusal, type Node, type Type, type Value } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { torchscriptError } from '../errors.js';
import type { SourcePosition } from '../script/ast.js';
import { describeValue, NONE, type ScriptValue } from './script-value.js';
import { foldTinyNode, knownScalarInt } from './size-folding.js';

export type TensorValue = ScriptValue & { kind: 'tensor' };

export class LoweringContext {
  constructor(
    readonly builder: GraphBuilder,
    readonly op: string,
    readonly at: SourcePosition,
    private readonly positional: readonly ScriptValue[],
    private readonly keywords: ReadonlyMap<string, ScriptValue>,
  ) {}

  /** Argument `index` (or keyword `name`), `fallback` when absent. */
  arg(index: number, name?: string, fallback: ScriptValue = NONE): ScriptValue {
    if (index < this.positional.length) return this.positional[index]!;
    if (name !== undefined && this.keywords.has(name)) return this.keywords.get(name)!;
    return fallback;
  }
  get argCount(): number {
    return this.positional.length;
  }

  fail(reason: string, hint?: string): never {
    throw torchscriptError({
      reason: `aten::${this.op}: ${reason}`,
      location: { file: this.at.file, line: this.at.line, column: this.at.column, op: `aten.${this.op}` },
      code: 'torchscript/unsupported',
      ...(hint ? { hint } : {}),
    });
  }

  isNone(value: ScriptValue): boolean {
    return value.kind === 'none';
  }
  int(value: ScriptValue, what: string): number {
    if (value.kind === 'int' || value.kind === 'bool') return Number(value.value);
    const folded = value.kind === 'tensor' && value.scalarInt ? knownScalarInt(value.value) : undefined;
    if (folded !== undefined) return folded;
    return this.fail(`${what} must be a known int, got ${describeValue(value)}`);
  }
  float(value: ScriptValue, what: string): number {
    if (value.kind === 'int' || value.kind === 'float') return value.value;
    return this.fail(`${what} must be a known number, got ${describeValue(value)}`);
  }
  bool(value: ScriptValue, what: string): boolean {
    if (value.kind === 'bool') return value.value;
    if (value.kind === 'int') return value.value !== 0;
    return this.fail(`${what} must be a known bool, got ${describeValue(value)}`);
  }
  /** A known int list (a single int repeats `repeat` times, as torch's `int[2]` arguments allow). */
  ints(value: ScriptValue, what: string, repeat = 1): number[] {
    if (value.kind === 'int') return new Array<number>(repeat).fill(value.value);
    if (value.kind === 'list' || value.kind === 'tuple') return value.items.map((item, i) => this.int(item, `${what}[${i}]`));
    return this.fail(`${what} must be a known int list, got ${describeValue(value)}`);
  }

  /** The IR value of a tensor argument; a Python number becomes a constant of `like`'s dtype. */
  tensor(value: ScriptValue, what: string, like?: TensorValue): TensorValue {
    if (value.kind === 'tensor') return value;
    if (value.kind === 'int' || value.kind === 'float' || value.kind === 'bool') {
      const dtype: DType = like?.dtype ?? (value.kind === 'float' ? 'float32' : value.kind === 'bool' ? 'bool' : 'int64');
      return this.scalarConstant(dtype, Number(value.value));
    }
    return this.fail(`${what} must be a tensor, got ${describeValue(value)}`);
  }
  scalarConstant(dtype: DType, value: number): TensorValue {
    const tensor = dtype === 'int64' ? Tensor.scalar('int64', BigInt(Math.trunc(value))) : Tensor.scalar(dtype, dtype === 'bool' ? value !== 0 : value);
    return { kind: 'tensor', value: this.builder.constant(tensor, 'const'), rank: 0, dtype };
  }
  int64Vector(values: readonly number[]): Value {
    return this.builder.constant(Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v))), 'const');
  }

  /** Emits one node; its first output as a tensor value with the given rank and dtype. */
  emit(op: string, inputs: readonly (Value | null)[], attributes: AttributeInits = {}, result: { rank?: number | undefined; dtype?: DType | undefined; shape?: readonly Dim[] | undefined } = {}): TensorValue {
    return this.emitMany(op, inputs, attributes, 1, result)[0]!;
  }
  /**
   * Emits one node. Each output's type is inferred right away (the canonical op set's inference,
   * with constant inputs seen), so sizes of intermediates read later fold to known ints; `shape`
   * states the dims where the lowering knows more than inference can (a Reshape to computed sizes).
   */
  emitMany(
    op: string,
    inputs: readonly (Value | null)[],
    attributes: AttributeInits,
    outputs: number,
    result: { rank?: number | undefined; dtype?: DType | undefined; shape?: readonly Dim[] | undefined } = {},
  ): TensorValue[] {
    const node = this.builder.node(`onnx.${op}`, inputs, toAttributes(`onnx.${op}`, attributes), {
      outputs,
      loc: { file: this.at.file, line: this.at.line, column: this.at.column },
    });
    const folded = foldTinyNode(node, 17);
    if (folded) {
      // Size arithmetic on known sizes (a traced module's `remainder(W, 7)`): a constant, so `int()` of it is known.
      node.erase();
      return folded.map((tensor) => ({ kind: 'tensor', value: this.builder.constant(tensor, 'const'), rank: tensor.shape.length, dtype: tensor.dtype, shape: tensor.shape }));
    }
    const inferred = inferOutputTypes(node);
    return node.outputs.map((output, index) => {
      const value: TensorValue = { kind: 'tensor', value: output! };
      const type = inferred?.[index];
      const dtype = result.dtype ?? (type?.kind === 'tensor' ? type.dtype : undefined);
      const inferredShape = type?.kind === 'tensor' && type.shape ? type.shape : undefined;
      const shape = result.shape && inferredShape?.length === result.shape.length ? result.shape.map((dim, i) => dim ?? inferredShape[i]!) : (result.shape ?? inferredShape);
      if (shape && (result.rank === undefined || result.rank === shape.length)) {
        value.shape = shape;
        value.rank = shape.length;
        if (dtype) output!.type = tensorType(dtype, shape);
      } else if (result.rank !== undefined) value.rank = result.rank;
      if (dtype !== undefined) value.dtype = dtype;
      return value;
    });
  }
}

const REGISTRY = createOpRegistry();
const OPSET_17 = { opset: () => 17 } as unknown as Parameters<typeof REGISTRY.inferNode>[1];

/** Told the shape rules' refusals (`InferenceRefusal`) while an import runs: inference there is best effort, but a refusal is the cause to name if the import then fails. */
let refusalSink: ((refusal: InferenceRefusal) => void) | undefined;

/** Runs `run` (an import, synchronous) with the refusals its node inference meets passed to `sink`. */
export function collectingRefusals<T>(sink: (refusal: InferenceRefusal) => void, run: () => T): T {
  const previous = refusalSink;
  refusalSink = sink;
  try {
    return run();
  } finally {
    refusalSink = previous;
  }
}

/** The canonical op set's inference for a node just built; undefined when it cannot tell. */
function inferOutputTypes(node: Node): readonly (Type | undefined)[] | undefined {
  try {
    return REGISTRY.inferNode(node, OPSET_17);
  } catch (error) {
    if (isInferenceRefusal(error)) refusalSink?.(error);
    return undefined; // best effort: the whole-model inference after import reports real conflicts
  }
}

/** The dims of a tensor value as far as they are known (tracked, or from its IR type). */
export function knownShape(x: TensorValue): readonly Dim[] | undefined {
  if (x.shape) return x.shape;
  const type = x.value.type;
  return type.kind === 'tensor' && type.shape ? type.shape : undefined;
}

/** Lowers one aten call. */
export type AtenLowering = (ctx: LoweringContext) => ScriptValue;
