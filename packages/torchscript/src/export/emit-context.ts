/**
 * What a canonical-op emitter sees while writing TorchScript: the node, TorchScript names for its
 * values, constant values it can inline (shapes, axes), and a way to append source lines.
 */
import { isTensorType, type Node, type Tensor, type Value } from '@modelpass/ir';
import { torchscriptError } from '../errors.js';

export class EmitContext {
  readonly lines: string[] = [];
  private readonly names = new Map<Value, string>();
  private counter = 0;
  /** TorchScript features used that need a newer `version` record (e.g. `torch.div` → 4). */
  minimumVersion = 3;

  /** `nodeConstants`: outputs of `onnx.Constant` nodes, written as module attributes like graph constants. */
  constructor(
    private readonly path: string,
    private readonly nodeConstants: ReadonlyMap<Value, Tensor> = new Map(),
    /** The model's onnx opset: ops whose meaning changed (Softmax before 13, Clip before 11, Slice before 10) read it. */
    readonly onnxOpset: number = Number.POSITIVE_INFINITY,
    /** Values shape inference proved (constant arithmetic, shapes of static inputs), for emitters that cannot compute them in torch. */
    private readonly proven: (value: Value) => Tensor | undefined = () => undefined,
  ) {}

  /** A value's integers when constant or proven by shape inference (torch's reflect-pad export computes its pads from constants). */
  provenInts(value: Value | null): number[] | undefined {
    const constant = this.constantInts(value);
    if (constant || !value) return constant;
    const tensor = this.proven(value);
    return tensor && tensor.dtype !== 'string' && tensor.rank <= 1 ? tensor.toNumbers() : undefined;
  }

  /** The tensor a value holds when it is constant (a graph constant, a Constant node's output, or an Identity of either). */
  constantOf(value: Value | null | undefined): Tensor | undefined {
    if (!value) return undefined;
    const known = value.constant ?? this.nodeConstants.get(value);
    if (known) return known;
    // torch.onnx writes equal initializers once and gives their other readers an Identity of it (ConvNeXt's LayerNorm scales).
    const producer = value.producer;
    return producer?.op === 'onnx.Identity' ? this.constantOf(producer.inputs[0]) : undefined;
  }

  /** The TorchScript local holding `value` (a fresh one when first asked). */
  name(value: Value | null): string {
    if (!value) return 'None';
    let name = this.names.get(value);
    if (!name) {
      name = `v${this.counter++}_${value.name.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40)}`;
      this.names.set(value, name);
    }
    return name;
  }
  bind(value: Value, name: string): void {
    this.names.set(value, name);
  }
  /** Nesting inside `if`/`while` blocks written for If/Loop nodes (two spaces each). */
  depth = 0;

  line(text: string): void {
    this.lines.push(`    ${'  '.repeat(this.depth)}${text}`);
  }
  /** `output = expression`. */
  assign(node: Node, expression: string, index = 0): void {
    this.line(`${this.name(node.output(index))} = ${expression}`);
  }

  /** The rank of a value when its type says. */
  rank(value: Value | null): number | undefined {
    if (!value) return undefined;
    const constant = this.constantOf(value);
    if (constant) return constant.rank;
    return isTensorType(value.type) && value.type.shape ? value.type.shape.length : undefined;
  }
  /** A constant input's integer values (shapes, axes, split sizes), or undefined when computed. */
  constantInts(value: Value | null): number[] | undefined {
    return this.constantOf(value)?.toNumbers();
  }
  constantNumber(value: Value | null): number | undefined {
    const numbers = this.constantOf(value)?.toNumbers();
    return numbers && numbers.length === 1 ? numbers[0] : undefined;
  }

  fail(node: Node, reason: string): never {
    throw torchscriptError({
      reason: `cannot write ${node.op} node '${node.name}' as TorchScript: ${reason}`,
      location: { file: this.path, node: node.name, op: node.op },
      code: 'torchscript/export-unsupported',
    });
  }
}

/** A Python literal for a number (floats keep a decimal point so TorchScript types them float). */
export function pyFloat(value: number): string {
  if (Number.isNaN(value)) return 'float("nan")';
  if (!Number.isFinite(value)) return value > 0 ? 'float("inf")' : 'float("-inf")';
  const text = String(value);
  return /[.eE]/.test(text) ? text : `${text}.`;
}
/**
 * A Python literal for an integer. TorchScript ints are int64 and `torch.jit.load` refuses a literal outside
 * that range ("Integral constant out of range"), while an int64 constant read into a JS number loses its last
 * bits: torch.onnx writes INT64_MAX (NonMaxSuppression's max_output_boxes_per_class of torchvision.ops.nms,
 * open-ended slices) and INT64_MIN as "no limit", and 9223372036854775807 comes out as 9223372036854776000,
 * past int64. Values beyond ±(2^53 - 1) — never exact in a number, only such sentinels in practice — are
 * written as ±(2^53 - 1), as large a limit for every size a tensor can have.
 */
export function pyInt(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? String(Number.MAX_SAFE_INTEGER) : String(-Number.MAX_SAFE_INTEGER);
  return String(Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, Math.trunc(value))));
}
export function pyInts(values: readonly number[]): string {
  return `[${values.map(pyInt).join(', ')}]`;
}

export type OpEmitter = (e: EmitContext, node: Node) => void;
