/**
 * `buildTrainingGraph(model, { loss, optimizer })`: the gradient graph with the optimizer written into
 * it. Weights, optimizer state and BatchNormalization running statistics are graph inputs; their
 * updated values are graph outputs that the step loop feeds back as the next step's inputs, so the
 * weights never pass through JS arithmetic. The learning rate (and AdamW's bias corrections) are
 * scalar inputs, so a schedule needs no rebuild.
 */
import { ModelpassError, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { buildGradientGraph, type BuildGradientGraphOptions } from './build-gradient-graph.js';
import type { DropoutMask } from './dropout-training.js';
import { GradientContext } from './gradient-context.js';
import { optimizerRule, type OptimizerRule, type OptimizerSpec } from './optimizers/index.js';
import { weightsAsInputs } from './weights-as-inputs.js';

export interface BuildTrainingGraphOptions extends BuildGradientGraphOptions {
  readonly optimizer: OptimizerSpec;
}

/** A value carried from one step to the next: input name, output name and its value at step 0. */
export interface CarriedValue {
  readonly input: string;
  readonly output: string;
  readonly initial: Tensor;
  /** What it is: a trained weight, an optimizer state slot of a weight, or a running statistic. */
  readonly role: { readonly kind: 'weight'; readonly weight: string } | { readonly kind: 'state'; readonly weight: string; readonly slot: string } | { readonly kind: 'running-statistic'; readonly weight: string };
}

export interface TrainingGraph {
  readonly model: Model;
  readonly optimizer: OptimizerSpec;
  readonly optimizerRule: OptimizerRule;
  /** Output names: the loss and the prediction the loss reads. */
  readonly loss: string;
  readonly prediction: string;
  readonly carried: readonly CarriedValue[];
  /** Scalar input name per optimizer scalar (`lr`, …). */
  readonly scalarInputs: ReadonlyMap<string, string>;
  readonly lossInputs: readonly string[];
  readonly dropoutMasks: readonly DropoutMask[];
  /** The float dtype of the weights and scalars. */
  readonly floatType: 'float32' | 'float64';
}

function trainError(reason: string): ModelpassError {
  return new ModelpassError({ reason, source: '@modelpass/train' });
}

export function buildTrainingGraph(source: Model, options: BuildTrainingGraphOptions): TrainingGraph {
  const rule = optimizerRule(options.optimizer);
  const gradientGraph = buildGradientGraph(source, { ...options, keepOutputs: true });
  const model = gradientGraph.model;
  const graph = model.graph;
  const lossOutput = graph.getValue(gradientGraph.loss)!;
  const predictionName = options.loss.output ?? source.graph.outputs[0]!.name;
  const prediction = graph.outputs.find((o) => o.name === predictionName) ?? graph.getValue(predictionName)!;
  const initial = weightsAsInputs(model, [...gradientGraph.gradients.keys(), ...gradientGraph.runningStatistics.keys()]);
  const dtypes = new Set([...initial.values()].map((t) => t.dtype));
  if ([...dtypes].some((d) => d !== 'float32' && d !== 'float64') || dtypes.size > 1) {
    throw trainError(`training needs weights of one dtype, float32 or float64; the model has ${[...dtypes].join(', ')}`);
  }
  const floatType = ([...dtypes][0] ?? 'float32') as 'float32' | 'float64';
  const ctx = new GradientContext(model, floatType);
  const scalarInputs = new Map<string, string>();
  const scalarValues: Record<string, Value> = {};
  for (const name of rule.scalarInputs) {
    const input = graph.addInput(graph.uniqueName(`optimizer.${name}`), tensorType(floatType, []));
    scalarInputs.set(name, input.name);
    scalarValues[name] = input;
  }
  const carried: CarriedValue[] = [];
  const outputs: Value[] = [lossOutput, prediction];
  const named = (value: Value, base: string): Value => {
    const output = ctx.op('Identity', [value]);
    output.rename(graph.uniqueName(base));
    outputs.push(output);
    return output;
  };
  const slots = rule.stateSlots(options.optimizer);
  for (const [weightName, gradName] of gradientGraph.gradients) {
    const weight = graph.getValue(weightName)!;
    const tensor = initial.get(weightName);
    if (!tensor || !weight.isGraphInput) throw trainError(`'${weightName}' is not an initializer; the optimizer trains initializers only`);
    const grad = graph.getValue(gradName)!;
    const state = slots.map((slot) => graph.addInput(graph.uniqueName(`optimizer.${slot}.${weightName}`), tensorType(floatType, tensor.shape)));
    const update = rule.update(ctx, options.optimizer, weight, grad, state, scalarValues);
    carried.push({ input: weightName, output: named(update.weight, `updated.${weightName}`).name, initial: tensor, role: { kind: 'weight', weight: weightName } });
    slots.forEach((slot, index) => {
      const zeros = Tensor.fromValues(floatType, tensor.shape, floatType === 'float32' ? new Float32Array(tensor.size) : new Float64Array(tensor.size));
      carried.push({ input: state[index]!.name, output: named(update.state[index]!, `updated.optimizer.${slot}.${weightName}`).name, initial: zeros, role: { kind: 'state', weight: weightName, slot } });
    });
  }
  for (const [statistic, output] of gradientGraph.runningStatistics) {
    carried.push({ input: statistic, output, initial: initial.get(statistic)!, role: { kind: 'running-statistic', weight: statistic } });
    outputs.push(graph.getValue(output)!);
  }
  graph.setOutputs(outputs);
  inferShapes(model);
  return {
    model, optimizer: options.optimizer, optimizerRule: rule, loss: lossOutput.name, prediction: prediction.name, carried,
    scalarInputs, lossInputs: gradientGraph.lossInputs, dropoutMasks: gradientGraph.dropoutMasks, floatType,
  };
}
