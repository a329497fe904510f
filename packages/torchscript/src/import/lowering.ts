/**
 * What an aten lowering sees: its arguments as script values and a context that emits canonical
 * (ONNX-semantics) nodes into the graph being built. Lowerings are registered by aten name in
 * `aten-registry.ts`; `torch.X(...)` and `ops.aten.X(...)` both look up `X`.
 */
import { Tensor, toAttributes, type AttributeInits, type DType, type GraphBuilder, type Value } from '@modelpass/ir';
import { torchscriptError } from '../errors.js';
import type { SourcePosition } from '../script/ast.js';
import { describeValue, NONE, type ScriptValue } from './script-value.js';

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
  emit(op: string, inputs: readonly (Value | null)[], attributes: AttributeInits = {}, result: { rank?: number | undefined; dtype?: DType | undefined } = {}): TensorValue {
    return this.emitMany(op, inputs, attributes, 1, result)[0]!;
  }
  emitMany(op: string, inputs: readonly (Value | null)[], attributes: AttributeInits, outputs: number, result: { rank?: number | undefined; dtype?: DType | undefined } = {}): TensorValue[] {
    const node = this.builder.node(`onnx.${op}`, inputs, toAttributes(`onnx.${op}`, attributes), {
      outputs,
      loc: { file: this.at.file, line: this.at.line, column: this.at.column },
    });
    return node.outputs.map((output) => {
      const value: TensorValue = { kind: 'tensor', value: output! };
      if (result.rank !== undefined) value.rank = result.rank;
      if (result.dtype !== undefined) value.dtype = result.dtype;
      return value;
    });
  }
}

/** Lowers one aten call. */
export type AtenLowering = (ctx: LoweringContext) => ScriptValue;
