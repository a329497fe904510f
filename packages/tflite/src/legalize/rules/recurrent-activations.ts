/**
 * The activation functions of RNN/GRU/LSTM (`activations`, `activation_alpha`, `activation_beta`)
 * as TFLite builtins. Parameters are consumed as ONNX Runtime reads them: walking the activation
 * list, each function that takes an alpha (a beta) takes the next unused value, else its ONNX
 * default (LeakyRelu 0.01, HardSigmoid 0.2/0.5, Elu 1). Affine, ThresholdedRelu and ScaledTanh
 * need their parameters given: ONNX's defaults (1/0, 1, 1/1) and ONNX Runtime's (0) disagree.
 */
import { isTensorType, Tensor, tensorType, type Node, type Type, type Value } from '@modelpass/ir';
import type { TfliteEmitter } from '../lowering-tools.js';

export interface RecurrentActivation {
  readonly name: string;
  readonly alpha: number;
  readonly beta: number;
}

interface ActivationSpec {
  readonly name: string;
  /** Default alpha/beta when it takes one; `null`: it takes one, but has no default both sides agree on. */
  readonly alpha?: number | null;
  readonly beta?: number | null;
  readonly emit: (emit: TfliteEmitter, x: Value, type: Type, a: RecurrentActivation) => Value;
}

const none = { fused_activation_function: 'NONE' };

function scalar(emit: TfliteEmitter, value: number, name: string): Value {
  return emit.constant(Tensor.scalar('float32', value), name);
}

const SPECS: readonly ActivationSpec[] = [
  { name: 'Sigmoid', emit: (e, x, t) => e.op1('LOGISTIC', [x], {}, t) },
  { name: 'Tanh', emit: (e, x, t) => e.op1('TANH', [x], {}, t) },
  { name: 'Relu', emit: (e, x, t) => e.op1('RELU', [x], {}, t) },
  { name: 'Affine', alpha: null, beta: null, emit: (e, x, t, a) => e.op1('ADD', [e.op1('MUL', [x, scalar(e, a.alpha, 'alpha')], none, t), scalar(e, a.beta, 'beta')], none, t) },
  { name: 'LeakyRelu', alpha: 0.01, emit: (e, x, t, a) => e.op1('LEAKY_RELU', [x], { alpha: a.alpha }, t) },
  {
    name: 'ThresholdedRelu',
    alpha: null,
    emit: (e, x, t, a) => e.op1('SELECT_V2', [e.op1('GREATER', [x, scalar(e, a.alpha, 'alpha')], {}, isTensorType(t) ? tensorType('bool', t.shape) : t), x, scalar(e, 0, 'zero')], {}, t),
  },
  { name: 'ScaledTanh', alpha: null, beta: null, emit: (e, x, t, a) => e.op1('MUL', [e.op1('TANH', [e.op1('MUL', [x, scalar(e, a.beta, 'beta')], none, t)], {}, t), scalar(e, a.alpha, 'alpha')], none, t) },
  {
    name: 'HardSigmoid',
    alpha: 0.2,
    beta: 0.5,
    emit: (e, x, t, a) => {
      const line = e.op1('ADD', [e.op1('MUL', [x, scalar(e, a.alpha, 'alpha')], none, t), scalar(e, a.beta, 'beta')], none, t);
      return e.op1('MINIMUM', [e.op1('MAXIMUM', [line, scalar(e, 0, 'zero')], {}, t), scalar(e, 1, 'one')], {}, t);
    },
  },
  {
    // max(x, 0) + α·(exp(min(x, 0)) − 1)
    name: 'Elu',
    alpha: 1,
    emit: (e, x, t, a) => {
      const negative = e.op1('SUB', [e.op1('EXP', [e.op1('MINIMUM', [x, scalar(e, 0, 'zero')], {}, t)], {}, t), scalar(e, 1, 'one')], none, t);
      return e.op1('ADD', [e.op1('MAXIMUM', [x, scalar(e, 0, 'zero')], {}, t), e.op1('MUL', [negative, scalar(e, a.alpha, 'alpha')], none, t)], none, t);
    },
  },
  { name: 'Softsign', emit: (e, x, t) => e.op1('DIV', [x, e.op1('ADD', [e.op1('ABS', [x], {}, t), scalar(e, 1, 'one')], none, t)], none, t) },
  {
    // max(x, 0) + log(1 + exp(−|x|)): no overflow
    name: 'Softplus',
    emit: (e, x, t) => {
      const tail = e.op1('LOG', [e.op1('ADD', [e.op1('EXP', [e.op1('NEG', [e.op1('ABS', [x], {}, t)], {}, t)], {}, t), scalar(e, 1, 'one')], none, t)], {}, t);
      return e.op1('ADD', [e.op1('MAXIMUM', [x, scalar(e, 0, 'zero')], {}, t), tail], none, t);
    },
  },
];

const BY_NAME = new Map(SPECS.map((spec) => [spec.name.toLowerCase(), spec]));

/** The activations of `node`, `perDirection` per direction (`defaults` when the attribute is absent), or why not. */
export function recurrentActivations(node: Node, directions: number, perDirection: number, defaults: readonly string[]): RecurrentActivation[][] | string {
  const given = node.optionalAttr('activations', 'strings');
  const names = given && given.length > 0 ? [...given] : Array.from({ length: directions }, () => defaults).flat();
  if (names.length !== perDirection * directions) return `activations lists ${names.length} functions; ${directions} direction(s) need ${perDirection * directions}`;
  const alphas = node.optionalAttr('activation_alpha', 'floats') ?? [];
  const betas = node.optionalAttr('activation_beta', 'floats') ?? [];
  let nextAlpha = 0;
  let nextBeta = 0;
  const resolved: RecurrentActivation[] = [];
  for (const name of names) {
    const spec = BY_NAME.get(name.toLowerCase());
    if (!spec) return `activation '${name}' is not supported (${SPECS.map((s) => s.name).join(', ')})`;
    const take = (fallback: number | null | undefined, list: readonly number[], next: number, label: string): [number, number] | string => {
      if (fallback === undefined) return [0, next];
      if (next < list.length) return [list[next]!, next + 1];
      if (fallback === null) return `activation '${name}' needs its ${label} given (ONNX's default and ONNX Runtime's differ)`;
      return [fallback, next];
    };
    const alpha = take(spec.alpha, alphas, nextAlpha, 'alpha');
    if (typeof alpha === 'string') return alpha;
    const beta = take(spec.beta, betas, nextBeta, 'beta');
    if (typeof beta === 'string') return beta;
    [nextAlpha, nextBeta] = [alpha[1], beta[1]];
    resolved.push({ name: spec.name, alpha: alpha[0], beta: beta[0] });
  }
  return Array.from({ length: directions }, (_, d) => resolved.slice(d * perDirection, (d + 1) * perDirection));
}

/** `activation(x)` as builtins. */
export function emitActivation(emit: TfliteEmitter, activation: RecurrentActivation, x: Value, type: Type): Value {
  return BY_NAME.get(activation.name.toLowerCase())!.emit(emit, x, type, activation);
}
