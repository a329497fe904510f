/**
 * Gradient rules keyed by op, like the reference kernels of `@modelpass/ops`: a rule receives the
 * forward node and the gradients of its outputs (null where an output does not reach the loss) and
 * returns the gradient of each input (null where an input is not differentiable or not needed).
 */
import type { Node, Value } from '@modelpass/ir';
import type { GradientContext } from './gradient-context.js';

export interface GradientRuleInput {
  readonly node: Node;
  /** Gradient of each output of the node (null: the output does not reach the loss). */
  readonly outputGrads: readonly (Value | null)[];
  /** Which inputs need a gradient (depend on a trainable value). */
  readonly needs: readonly boolean[];
  readonly ctx: GradientContext;
}

export interface GradientRule {
  /** `onnx.Conv`, … */
  readonly op: string;
  /** Input positions that never get a gradient (indices, shapes, running statistics, exponents). */
  readonly nonDifferentiable?: readonly number[];
  /**
   * The op's integer inputs and outputs carry gradients too (fake quantization: QuantizeLinear's integer
   * output and DequantizeLinear's integer input, for the straight-through estimator). Default: only float values do.
   */
  readonly integerGradients?: boolean;
  readonly gradient: (input: GradientRuleInput) => readonly (Value | null)[];
}

export function defineGradientRule(rule: GradientRule): GradientRule {
  return rule;
}

export class GradientRuleRegistry {
  private readonly rules = new Map<string, GradientRule>();

  constructor(rules: Iterable<GradientRule> = []) {
    for (const rule of rules) this.register(rule);
  }

  register(rule: GradientRule): this {
    this.rules.set(rule.op, rule);
    return this;
  }

  get(op: string): GradientRule | undefined {
    return this.rules.get(op);
  }

  get ops(): string[] {
    return [...this.rules.keys()].sort();
  }
}
