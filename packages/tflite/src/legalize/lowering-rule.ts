import type { Model, Node, OpRegistry } from '@modelpass/ir';

/** Options of `legalize-tflite` that lowering rules read. */
export interface LegalizeOptions {
  /** `nchw` (default): graph inputs/outputs keep their ONNX layout; `nhwc`: image-like inputs/outputs are declared NHWC, so no Transpose is needed at the edges. */
  readonly ioLayout: 'nchw' | 'nhwc';
  /** Grouped convolutions (neither plain nor depthwise): `split` into one CONV_2D per group (runs on every TFLite runtime) or `native` (one CONV_2D with fewer filter input channels: newer runtimes only; TFLite 2.9 refuses it at allocation). */
  readonly groupedConv: 'split' | 'native';
}

export const DEFAULT_LEGALIZE_OPTIONS: LegalizeOptions = { ioLayout: 'nchw', groupedConv: 'split' };

export interface LoweringContext {
  readonly model: Model;
  readonly options: LegalizeOptions;
  /** The canonical op set plus the tflite dialect: builders type plain attribute values by it. */
  readonly registry: OpRegistry;
}

/**
 * How one canonical op becomes tflite dialect ops. `stage` says when it runs:
 * - `layout`: the op fixes channels at axis 1 (Conv, pools, DepthToSpace, Resize…). It becomes its
 *   NHWC tflite op between an NCHW→NHWC and an NHWC→NCHW transpose, before transposes are sunk
 *   (so transposes of neighbouring layout ops meet and cancel);
 * - `lower`: a layout-agnostic op (elementwise, shape, axis ops), lowered after sinking, on whatever
 *   layout its operands now have (the sinking pass already renumbered its axes).
 */
export interface LoweringRule {
  readonly ops: readonly string[];
  readonly stage: 'layout' | 'lower';
  /** The TFLite builtins this rule emits, for the coverage table. */
  readonly targets: readonly string[];
  /** Why `node` cannot be lowered (unsupported attribute value, dynamic shape TFLite cannot express), or undefined. Changes nothing. */
  check(node: Node, context: LoweringContext): string | undefined;
  /** Replaces `node` by tflite ops. Only called when `check` passed. */
  lower(node: Node, context: LoweringContext): void;
}

/** Lowering rules indexed by canonical op: a table, so a plugin can add or replace one. */
export class LoweringRegistry {
  private readonly rules = new Map<string, LoweringRule>();

  constructor(rules: Iterable<LoweringRule> = []) {
    for (const rule of rules) this.add(rule);
  }

  add(rule: LoweringRule): this {
    for (const op of rule.ops) this.rules.set(op, rule);
    return this;
  }

  get(op: string): LoweringRule | undefined {
    return this.rules.get(op);
  }

  ops(): string[] {
    return [...this.rules.keys()].sort();
  }

  /** Canonical op → the builtins it lowers to, sorted by op. */
  coverage(): { op: string; targets: readonly string[]; stage: LoweringRule['stage'] }[] {
    return this.ops().map((op) => {
      const rule = this.rules.get(op)!;
      return { op, targets: rule.targets, stage: rule.stage };
    });
  }
}
