/**
 * The activation functions of the recurrent ops (RNN, GRU, LSTM `activations` attribute), looked up
 * by name without regard to case, with their `activation_alpha`/`activation_beta` parameters.
 *
 * Parameter lists are consumed the way ONNX Runtime reads them: walking the activation list in
 * order, each function that takes an alpha takes the next unused value of `activation_alpha`
 * (each that takes a beta, the next of `activation_beta`); when a list runs out, the function gets
 * its default: the default of the ONNX operator of the same name (LeakyRelu 0.01, HardSigmoid
 * 0.2/0.5, Elu 1, ThresholdedRelu 1, Affine 1/0, ScaledTanh 1/1). ONNX Runtime agrees for
 * LeakyRelu, HardSigmoid and Elu but uses 0 for Affine, ThresholdedRelu and ScaledTanh; give the
 * values explicitly to get the same results from both.
 */
import type { Node } from '@modelpass/ir';
import { opError } from '../util/index.js';

/** One resolved activation: a scalar function with its parameters bound. */
export type Activation = (x: number) => number;

interface ActivationSpec {
  /** Canonical spelling, for messages. */
  readonly name: string;
  /** Default alpha when the function takes one (undefined: it takes none). */
  readonly alpha?: number;
  /** Default beta when the function takes one. */
  readonly beta?: number;
  readonly make: (alpha: number, beta: number) => Activation;
}

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

const SPECS: readonly ActivationSpec[] = [
  { name: 'Sigmoid', make: () => sigmoid },
  { name: 'Tanh', make: () => Math.tanh },
  { name: 'Relu', make: () => (x) => (x > 0 ? x : 0) },
  { name: 'Affine', alpha: 1, beta: 0, make: (alpha, beta) => (x) => alpha * x + beta },
  { name: 'LeakyRelu', alpha: 0.01, make: (alpha) => (x) => (x >= 0 ? x : alpha * x) },
  { name: 'ThresholdedRelu', alpha: 1, make: (alpha) => (x) => (x >= alpha ? x : 0) },
  { name: 'ScaledTanh', alpha: 1, beta: 1, make: (alpha, beta) => (x) => alpha * Math.tanh(beta * x) },
  { name: 'HardSigmoid', alpha: 0.2, beta: 0.5, make: (alpha, beta) => (x) => Math.min(Math.max(alpha * x + beta, 0), 1) },
  { name: 'Elu', alpha: 1, make: (alpha) => (x) => (x >= 0 ? x : alpha * Math.expm1(x)) },
  { name: 'Softsign', make: () => (x) => x / (1 + Math.abs(x)) },
  { name: 'Softplus', make: () => softplus },
];

const BY_NAME: ReadonlyMap<string, ActivationSpec> = new Map(SPECS.map((spec) => [spec.name.toLowerCase(), spec]));

/** The activation names the recurrent ops accept (canonical spelling). */
export const RECURRENT_ACTIVATION_NAMES: readonly string[] = SPECS.map((spec) => spec.name);

/**
 * The node's activations: `perDirection` functions for each of `directions` directions, from the
 * `activations` attribute (or `defaults`, repeated per direction), parameters bound.
 * Result: `[direction][slot]`.
 */
export function resolveActivations(node: Node, directions: number, perDirection: number, defaults: readonly string[]): Activation[][] {
  const given = node.optionalAttr('activations', 'strings');
  const names = given ?? Array.from({ length: directions }, () => defaults).flat();
  if (names.length !== directions * perDirection) {
    throw opError(node, `needs ${directions * perDirection} activations (${perDirection} per direction)`, { actual: `${names.length}: [${names.join(', ')}]` });
  }
  const alphas = node.optionalAttr('activation_alpha', 'floats') ?? [];
  const betas = node.optionalAttr('activation_beta', 'floats') ?? [];
  let nextAlpha = 0;
  let nextBeta = 0;
  const resolved = names.map((name) => {
    const spec = BY_NAME.get(name.toLowerCase());
    if (!spec) throw opError(node, `has an unknown activation '${name}'`, { expected: RECURRENT_ACTIVATION_NAMES.join(', ') });
    const alpha = spec.alpha === undefined ? 0 : nextAlpha < alphas.length ? alphas[nextAlpha++]! : spec.alpha;
    const beta = spec.beta === undefined ? 0 : nextBeta < betas.length ? betas[nextBeta++]! : spec.beta;
    return spec.make(alpha, beta);
  });
  return Array.from({ length: directions }, (_, d) => resolved.slice(d * perDirection, (d + 1) * perDirection));
}
