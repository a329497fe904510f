import { Tensor, tensorType, type Node, type Type, type Value } from '@modelpass/ir';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';

/**
 * Activations without a TFLite builtin of their own, written with elementwise builtins (float32):
 * Erf, Selu, Celu, Mish, ThresholdedRelu.
 */

const FUSIBLE = { fused_activation_function: 'NONE' };

function float32Only(node: Node): string | undefined {
  const dtype = tensorTypeOf(node.inputs[0])?.dtype;
  return dtype === 'float32' ? undefined : `${node.op} is lowered for float32 only (input is ${dtype ?? 'untyped'})`;
}

/** Emits elementwise builtins of `node`'s output type; `c(v)` is a float32 scalar constant. */
class Elementwise {
  readonly emit: TfliteEmitter;
  readonly type: Type;
  readonly boolType: Type;

  constructor(node: Node, context: Parameters<LoweringRule['lower']>[1]) {
    this.emit = new TfliteEmitter(node, context);
    this.type = node.output(0).type;
    this.boolType = tensorType('bool', dimsOf(node.inputs[0]) ?? []);
  }

  c(value: number): Value {
    return this.emit.constant(Tensor.fromValues('float32', [], [value]), 'scalar');
  }

  unary(builtin: string, x: Value): Value {
    return this.emit.op1(builtin, [x], {}, this.type);
  }

  binary(builtin: 'ADD' | 'SUB' | 'MUL' | 'DIV' | 'MAXIMUM' | 'MINIMUM', a: Value, b: Value): Value {
    return this.emit.op1(builtin, [a, b], builtin === 'MAXIMUM' || builtin === 'MINIMUM' ? {} : FUSIBLE, this.type);
  }

  compare(builtin: 'GREATER' | 'LESS', a: Value, b: Value): Value {
    return this.emit.op1(builtin, [a, b], {}, this.boolType);
  }

  select(condition: Value, whenTrue: Value, whenFalse: Value): Value {
    return this.emit.op1('SELECT_V2', [condition, whenTrue, whenFalse], {}, this.type);
  }
}

function activation(op: string, targets: string[], build: (e: Elementwise, x: Value, node: Node) => Value): LoweringRule {
  return {
    ops: [`onnx.${op}`],
    stage: 'lower',
    targets,
    check: float32Only,
    lower(node, context) {
      const e = new Elementwise(node, context);
      replaceNode(node, [build(e, node.input(0), node)]);
    },
  };
}

// Abramowitz & Stegun 7.1.26: |error| ≤ 1.5e-7 over the reals.
const ERF_P = 0.3275911;
const ERF_A = [0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429];

/** erf(x) = sign(x)·(1 − t·(a1 + t·(a2 + …))·exp(−x²)), t = 1/(1 + p·|x|). */
const erf = activation('Erf', ['ABS', 'MUL', 'ADD', 'DIV', 'EXP', 'NEG', 'SUB', 'LESS', 'SELECT_V2'], (e, x) => {
  const t = e.binary('DIV', e.c(1), e.binary('ADD', e.binary('MUL', e.unary('ABS', x), e.c(ERF_P)), e.c(1)));
  let poly = e.c(ERF_A[4]!);
  for (let k = 3; k >= 0; k--) poly = e.binary('ADD', e.binary('MUL', poly, t), e.c(ERF_A[k]!));
  poly = e.binary('MUL', poly, t);
  const gauss = e.unary('EXP', e.unary('NEG', e.binary('MUL', x, x)));
  const magnitude = e.binary('SUB', e.c(1), e.binary('MUL', poly, gauss));
  return e.select(e.compare('LESS', x, e.c(0)), e.unary('NEG', magnitude), magnitude);
});

/** Selu: γ·(x if x > 0 else α·(exp(x) − 1)). */
const selu = activation('Selu', ['EXP', 'SUB', 'MUL', 'GREATER', 'SELECT_V2'], (e, x, node) => {
  const alpha = node.optionalAttr('alpha', 'float') ?? 1.67326319217681884765625;
  const gamma = node.optionalAttr('gamma', 'float') ?? 1.05070102214813232421875;
  const negative = e.binary('MUL', e.binary('SUB', e.unary('EXP', x), e.c(1)), e.c(alpha));
  return e.binary('MUL', e.select(e.compare('GREATER', x, e.c(0)), x, negative), e.c(gamma));
});

/** Celu: max(0, x) + min(0, α·(exp(x/α) − 1)). */
const celu = activation('Celu', ['MAXIMUM', 'MINIMUM', 'MUL', 'EXP', 'SUB', 'ADD'], (e, x, node) => {
  const alpha = node.optionalAttr('alpha', 'float') ?? 1;
  const expm1 = e.binary('SUB', e.unary('EXP', e.binary('MUL', x, e.c(1 / alpha))), e.c(1));
  return e.binary('ADD', e.binary('MAXIMUM', x, e.c(0)), e.binary('MINIMUM', e.binary('MUL', expm1, e.c(alpha)), e.c(0)));
});

/** Mish: x·tanh(softplus(x)), softplus(x) = max(x, 0) + log(1 + exp(−|x|)) (no overflow for large x). */
const mish = activation('Mish', ['ABS', 'NEG', 'EXP', 'ADD', 'LOG', 'MAXIMUM', 'TANH', 'MUL'], (e, x) => {
  const softplus = e.binary('ADD', e.binary('MAXIMUM', x, e.c(0)), e.unary('LOG', e.binary('ADD', e.unary('EXP', e.unary('NEG', e.unary('ABS', x))), e.c(1))));
  return e.binary('MUL', x, e.unary('TANH', softplus));
});

/** ThresholdedRelu: x if x > α else 0. */
const thresholdedRelu = activation('ThresholdedRelu', ['GREATER', 'SELECT_V2'], (e, x, node) => {
  const alpha = node.optionalAttr('alpha', 'float') ?? 1;
  return e.select(e.compare('GREATER', x, e.c(alpha)), x, e.emit.constant(Tensor.fromValues('float32', [], [0]), 'zero'));
});

export const activationRules: readonly LoweringRule[] = [erf, selu, celu, mish, thresholdedRelu];
