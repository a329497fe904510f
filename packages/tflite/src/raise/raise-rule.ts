import type { Model, Node, OpRegistry } from '@modelpass/ir';

export interface RaiseContext {
  readonly model: Model;
  /** Canonical op set plus the tflite dialect. */
  readonly registry: OpRegistry;
  /** The ONNX opset the canonical ops are written for. */
  readonly opset: number;
}

/**
 * How one tflite builtin becomes canonical (ONNX-semantics) ops. Layout-sensitive builtins (CONV_2D,
 * pools, RESIZE_*, DEPTH_TO_SPACE…) become their NCHW op between an NHWC→NCHW and an NCHW→NHWC
 * transpose; sinking then cancels the transposes between neighbours.
 */
export interface RaiseRule {
  readonly ops: readonly string[];
  /** The canonical ops this rule emits, for the coverage table. */
  readonly targets: readonly string[];
  /** Why `node` cannot be raised, or undefined. Changes nothing. */
  check(node: Node, context: RaiseContext): string | undefined;
  raise(node: Node, context: RaiseContext): void;
}

export class RaiseRegistry {
  private readonly rules = new Map<string, RaiseRule>();

  constructor(rules: Iterable<RaiseRule> = []) {
    for (const rule of rules) this.add(rule);
  }

  add(rule: RaiseRule): this {
    for (const op of rule.ops) this.rules.set(op, rule);
    return this;
  }

  get(op: string): RaiseRule | undefined {
    return this.rules.get(op);
  }

  ops(): string[] {
    return [...this.rules.keys()].sort();
  }
}
