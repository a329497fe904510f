/**
 * Central finite differences with the reference interpreter in float64: the referee for every
 * gradient rule. A tiny model is built in float64; the training graph's `grad.<name>` outputs must
 * equal (L(x+εe) − L(x−εe)) / 2ε for every element of every differentiated value.
 */
import { GraphBuilder, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';
import { runReference } from '@modelpass/ops';
import { buildGradientGraph, fillDropoutMask, type LossSpec } from '@modelpass/train';

export type Rng = () => number;

export function seeded(seed: number): Rng {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return state / 4294967296;
  };
}

export function randomTensor(rng: Rng, shape: readonly number[], scale = 1, offset = 0): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromValues('float64', shape, Array.from({ length: size }, () => offset + scale * (rng() * 2 - 1)));
}

export interface GradCheckCase {
  /** Builds the forward graph and returns its output; inputs added by `build` are fed from `feeds`. */
  readonly build: (b: GraphBuilder) => Value;
  readonly feeds: Readonly<Record<string, Tensor>>;
  readonly wrt: readonly string[];
  readonly opset?: number;
  readonly loss?: LossSpec;
  /** Extra feeds for the loss (target, labels). */
  readonly lossFeeds?: Readonly<Record<string, Tensor>>;
  readonly batchNormalization?: 'running-statistics' | 'batch-statistics';
  /** Training-mode Dropout with masks drawn from this seed (batch size: the first feed's first dim). */
  readonly dropoutSeed?: number;
}

export interface GradCheckResult {
  readonly maxAbsError: number;
  readonly maxRelError: number;
  readonly checked: number;
}

export function forwardModel(testCase: GradCheckCase): Model {
  const b = new GraphBuilder();
  const y = testCase.build(b);
  b.output(y);
  return b.model({ onnx: testCase.opset ?? 17 });
}

/** Compares autodiff with central differences; returns the worst errors. */
export function gradCheck(testCase: GradCheckCase, epsilon = 1e-6): GradCheckResult {
  const model = forwardModel(testCase);
  const loss = testCase.loss ?? { kind: 'mse' };
  const mode = { ...(testCase.batchNormalization ? { batchNormalization: testCase.batchNormalization } : {}), ...(testCase.dropoutSeed !== undefined ? { dropout: 'train' as const } : {}) };
  const training = buildGradientGraph(model, { loss, wrt: testCase.wrt, ...mode });
  const feeds: Record<string, Tensor> = { ...testCase.feeds, ...(testCase.lossFeeds ?? {}) };
  const batch = Object.values(testCase.feeds)[0]?.shape[0] ?? 1;
  training.dropoutMasks.forEach((mask, index) => {
    const data = new Float64Array(batch * mask.sampleShape.reduce((a, b) => a * b, 1));
    fillDropoutMask(data, mask.ratio, testCase.dropoutSeed!, 0, index);
    feeds[mask.input] = Tensor.fromValues('float64', [batch, ...mask.sampleShape], data);
  });
  const valueOf = (name: string): Tensor => feeds[name] ?? model.graph.getValue(name)!.constant!;
  const lossModel = buildGradientGraph(model, { loss, wrt: [], ...mode }).model;
  const lossAt = (name: string, tensor: Tensor): number => {
    const isConstant = !!lossModel.graph.getValue(name)?.isConstant && !(name in feeds);
    if (isConstant) lossModel.graph.getValue(name)!.setConstant(tensor);
    const out = runReference(lossModel, isConstant ? feeds : { ...feeds, [name]: tensor }, { outputs: ['loss'] });
    if (isConstant) lossModel.graph.getValue(name)!.setConstant(valueOf(name));
    return (out.get('loss') as Tensor).toNumbers()[0]!;
  };
  const outputs = runReference(training.model, feeds, { outputs: [...training.gradients.values()] });
  let maxAbsError = 0;
  let maxRelError = 0;
  let checked = 0;
  for (const name of testCase.wrt) {
    const analytic = (outputs.get(training.gradients.get(name)!) as Tensor).toNumbers();
    const base = valueOf(name);
    const values = base.toNumbers();
    if (analytic.length !== values.length) throw new Error(`grad.${name} has ${analytic.length} elements, ${name} has ${values.length}`);
    for (let i = 0; i < values.length; i++) {
      const plus = values.slice(); plus[i]! += epsilon;
      const minus = values.slice(); minus[i]! -= epsilon;
      const numeric = (lossAt(name, Tensor.fromValues('float64', base.shape, plus)) - lossAt(name, Tensor.fromValues('float64', base.shape, minus))) / (2 * epsilon);
      const abs = Math.abs(numeric - analytic[i]!);
      maxAbsError = Math.max(maxAbsError, abs);
      maxRelError = Math.max(maxRelError, abs / Math.max(Math.abs(numeric), 1e-3));
      checked++;
    }
  }
  return { maxAbsError, maxRelError, checked };
}

export const f64 = (shape: readonly (number | string)[]) => tensorType('float64', shape);
