/**
 * `optimizerStepModel(spec, shapes)`: a model that applies one optimizer step to gradients computed
 * elsewhere — inputs `w`, `grad.w`, the state slots `optimizer.<slot>.w` and the scalar inputs;
 * outputs `updated.w` and `updated.optimizer.<slot>.w`. The same update the training graph embeds,
 * usable alone (and how the optimizers are checked against PyTorch on identical gradients).
 */
import { Graph, Model, tensorType, type Value } from '@modelpass/ir';
import { GradientContext } from '../gradient-context.js';
import { optimizerRule, type OptimizerSpec } from './index.js';

export interface OptimizerStepModel {
  readonly model: Model;
  /** Scalar name (`lr`, `step_size`, …) → input name; values from `rule.scalars(spec, lr, step)`. */
  readonly scalarInputs: ReadonlyMap<string, string>;
  readonly slots: readonly string[];
}

export function optimizerStepModel(spec: OptimizerSpec, shapes: ReadonlyMap<string, readonly number[]>, dtype: 'float32' | 'float64' = 'float32'): OptimizerStepModel {
  const rule = optimizerRule(spec);
  const model = new Model(new Graph('optimizer_step'));
  model.opsetImports.set('onnx', 17);
  const graph = model.graph;
  const ctx = new GradientContext(model, dtype);
  const scalarInputs = new Map<string, string>();
  const scalars: Record<string, Value> = {};
  for (const name of rule.scalarInputs) {
    scalars[name] = graph.addInput(`optimizer.${name}`, tensorType(dtype, []));
    scalarInputs.set(name, `optimizer.${name}`);
  }
  const slots = rule.stateSlots(spec);
  const outputs: Value[] = [];
  for (const [name, shape] of shapes) {
    const type = tensorType(dtype, shape);
    const weight = graph.addInput(name, type);
    const grad = graph.addInput(`grad.${name}`, type);
    const state = slots.map((slot) => graph.addInput(`optimizer.${slot}.${name}`, type));
    const update = rule.update(ctx, spec, weight, grad, state, scalars);
    const named = (value: Value, outputName: string) => {
      const output = ctx.op('Identity', [value]);
      output.rename(outputName);
      outputs.push(output);
    };
    named(update.weight, `updated.${name}`);
    slots.forEach((slot, i) => named(update.state[i]!, `updated.optimizer.${slot}.${name}`));
  }
  graph.setOutputs(outputs);
  return { model, scalarInputs, slots };
}
