/**
 * `buildGradientGraph(model, { loss, wrt })`: reverse-mode autodiff over the IR. The result is a new
 * model whose outputs are the loss, the model's own outputs, and `grad.<name>` for every value in
 * `wrt` (default: every trainable float initializer), all in standard ONNX ops.
 */
import { ModelpassError, type Model, type Node, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { refuseTiedBatchNormStatistics } from './batch-norm-ties.js';
import { writeOutTrainingBatchNorm } from './batch-norm-training.js';
import { writeOutTrainingDropout, type DropoutMask } from './dropout-training.js';
import { unrollRecurrent } from './recurrent-unroll.js';
import { GradientContext } from './gradient-context.js';
import { lossBuilders, type LossSpec } from './losses.js';
import type { GradientRuleRegistry } from './rule-registry.js';
import { createGradientRuleRegistry } from './rules/index.js';

export interface BuildGradientGraphOptions {
  readonly loss: LossSpec;
  /** Names of the values to differentiate (initializers or graph inputs). Default: `trainableInitializers(model)`. */
  readonly wrt?: readonly string[];
  /** Gradient rules (default: every built-in rule). */
  readonly rules?: GradientRuleRegistry;
  /** Keep the model's original outputs as outputs of the training graph (default true). */
  readonly keepOutputs?: boolean;
  /**
   * `running-statistics` (default): BatchNormalization normalizes with its running mean and variance
   * (inference mode; they are not trained). `batch-statistics`: training mode, written out in standard
   * ops, with the updated running statistics as `running.<name>` outputs.
   */
  readonly batchNormalization?: 'running-statistics' | 'batch-statistics';
  /**
   * `inference` (default): Dropout is the identity. `train`: each Dropout multiplies by a mask fed as a
   * new graph input (`dropoutMasks`; see `writeOutTrainingDropout`).
   */
  readonly dropout?: 'inference' | 'train';
}

export interface GradientGraph {
  readonly model: Model;
  /** The loss output's name (`loss`). */
  readonly loss: string;
  /** Differentiated value → its gradient output (`grad.<name>`). */
  readonly gradients: ReadonlyMap<string, string>;
  /** Inputs the loss added (labels, target, teacher logits). */
  readonly lossInputs: readonly string[];
  /** With `batchNormalization: 'batch-statistics'`: running mean/variance initializer → its updated value's output. */
  readonly runningStatistics: ReadonlyMap<string, string>;
  /** With `dropout: 'train'`: the mask inputs, one per Dropout node. */
  readonly dropoutMasks: readonly DropoutMask[];
}

/** Training graphs import at least this opset: gradients use ScatterElements' `reduction=add`. */
export const TRAINING_MIN_OPSET = 16;

const FLOAT_DTYPES = new Set(['float32', 'float64', 'float16', 'bfloat16']);

function isFloat(value: Value): boolean {
  return value.type.kind === 'tensor' && FLOAT_DTYPES.has(value.type.dtype);
}

/**
 * Float initializers that feed a differentiable input of some node: weights and biases, not
 * BatchNormalization running statistics, shapes, exponents or scalar constants.
 */
export function trainableInitializers(model: Model, rules: GradientRuleRegistry = createGradientRuleRegistry()): string[] {
  const names: string[] = [];
  for (const value of model.graph.constants) {
    if (!isFloat(value) || !value.constant || value.constant.size <= 1) continue;
    const trainableUse = [...value.uses].some((use) => {
      if (!use.node) return false;
      const rule = rules.get(use.node.op);
      return !rule?.nonDifferentiable?.includes(use.index);
    });
    if (trainableUse) names.push(value.name);
  }
  return names;
}

function cloneModel(model: Model): Model {
  return decodeOnnx(encodeOnnx(model));
}

export function buildGradientGraph(source: Model, options: BuildGradientGraphOptions): GradientGraph {
  const rules = options.rules ?? createGradientRuleRegistry();
  const opset = source.opset('onnx') ?? 0;
  if (opset < 13) {
    throw new ModelpassError({ reason: `autodiff needs onnx opset 13 or newer, the model imports ${opset}`, hint: `the train and distill passes upgrade opsets 7–12 to 13 themselves where every node means the same there (in code: upgradeOldOpset or upgradeToOpset13 from @modelpass/transforms); ONNX's converter does it too: python3 -c "import onnx, onnx.version_converter as v; onnx.save(v.convert_version(onnx.load('in.onnx'), 13), 'out.onnx')"`, source: '@modelpass/train' });
  }
  const model = cloneModel(source);
  if (opset < TRAINING_MIN_OPSET) model.opsetImports.set('onnx', TRAINING_MIN_OPSET);
  const graph = model.graph;
  inferShapes(model);
  if (unrollRecurrent(model) > 0) inferShapes(model);
  refuseTiedBatchNormStatistics(model, options.batchNormalization === 'batch-statistics');
  const runningUpdates = options.batchNormalization === 'batch-statistics' ? writeOutTrainingBatchNorm(model) : new Map<string, Value>();
  const dropoutMasks = options.dropout === 'train' ? writeOutTrainingDropout(model) : [];

  const outputName = options.loss.output ?? graph.outputs[0]?.name;
  const prediction = outputName === undefined ? undefined : graph.outputs.find((o) => o.name === outputName) ?? graph.getValue(outputName);
  if (!prediction) throw new ModelpassError({ reason: `the loss reads output '${outputName}', which the model does not have`, source: '@modelpass/train' });
  if (prediction.type.kind !== 'tensor' || !FLOAT_DTYPES.has(prediction.type.dtype)) {
    throw new ModelpassError({ reason: `the loss needs a float output; '${prediction.name}' is not`, source: '@modelpass/train' });
  }
  const ctx = new GradientContext(model, prediction.type.dtype);
  const build = lossBuilders.get(options.loss.kind);
  if (!build) throw new ModelpassError({ reason: `unknown loss '${options.loss.kind}'`, expected: [...lossBuilders.keys()].join(', '), source: '@modelpass/train' });
  const inputsBefore = new Set(graph.inputs.map((v) => v.name));
  const loss = build(ctx, prediction, options.loss);
  const masks = new Set(dropoutMasks.map((mask) => mask.input));
  const lossInputs = graph.inputs.map((v) => v.name).filter((n) => !inputsBefore.has(n) && !masks.has(n));
  inferShapes(model);

  const wrtNames = options.wrt ?? trainableInitializers(source, rules);
  if (options.wrt === undefined && wrtNames.length === 0) {
    // Training would run every step and change nothing: say so instead of writing the model back as it came.
    throw new ModelpassError({
      reason: `the model '${source.graph.name}' has no trainable weights`,
      expected: 'float initializers with more than one element that feed a differentiable input of some node (Conv, Gemm, MatMul, …)',
      hint: 'weights held in Constant nodes become initializers with the simplify pass (run it first); a model without weights cannot be trained',
      source: '@modelpass/train',
    });
  }
  const wrt = wrtNames.map((name) => {
    const value = graph.getValue(name);
    if (!value || (!value.isConstant && !value.isGraphInput)) {
      throw new ModelpassError({ reason: `cannot differentiate with respect to '${name}': it is not an initializer or graph input of the model`, source: '@modelpass/train' });
    }
    if (!isFloat(value)) throw new ModelpassError({ reason: `cannot differentiate with respect to '${name}': it is not a float tensor`, source: '@modelpass/train' });
    return value;
  });

  const nodes = graph.nodeList();
  const dependsOnWrt = forwardDependents(nodes, wrt, rules);
  const reachesLoss = backwardReach(loss);
  const grads = new Map<Value, Value[]>([[loss, [ctx.scalar(1)]]]);
  const accumulated = (value: Value): Value | null => {
    const parts = grads.get(value);
    if (!parts || parts.length === 0) return null;
    if (parts.length === 1) return parts[0]!;
    const sum = ctx.op('Sum', parts);
    grads.set(value, [sum]);
    return sum;
  };

  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    if (!reachesLoss.has(node)) continue;
    const rule = rules.get(node.op);
    const needs = node.inputs.map((input, index) => !!input && dependsOnWrt.has(input) && (isFloat(input) || !!rule?.integerGradients) && !rule?.nonDifferentiable?.includes(index));
    if (!needs.some(Boolean)) continue;
    const outputGrads = node.outputs.map((output) => (output ? accumulated(output) : null));
    if (outputGrads.every((g) => g === null)) continue;
    if (!rule) {
      throw new ModelpassError({
        reason: `no gradient rule for ${node.op} (node '${node.name}')`,
        hint: `differentiable ops: ${rules.ops.map((op) => op.replace('onnx.', '')).join(', ')}`,
        source: '@modelpass/train',
      });
    }
    const inputGrads = rule.gradient({ node, outputGrads, needs, ctx });
    node.inputs.forEach((input, index) => {
      const grad = inputGrads[index];
      if (!input || !needs[index] || !grad) return;
      const list = grads.get(input) ?? [];
      list.push(grad);
      grads.set(input, list);
    });
  }

  const gradients = new Map<string, string>();
  const outputs: Value[] = [];
  const lossOutput = ctx.op('Identity', [loss]);
  lossOutput.rename(graph.uniqueName('loss'));
  outputs.push(lossOutput);
  if (options.keepOutputs ?? true) outputs.push(...graph.outputs);
  for (const value of wrt) {
    const grad = accumulated(value) ?? ctx.zerosLike(value);
    const named = ctx.op('Identity', [grad]);
    named.rename(graph.uniqueName(`grad.${value.name}`));
    gradients.set(value.name, named.name);
    outputs.push(named);
  }
  const runningStatistics = new Map<string, string>();
  for (const [name, update] of runningUpdates) {
    const named = ctx.op('Identity', [update]);
    named.rename(graph.uniqueName(`running.${name}`));
    runningStatistics.set(name, named.name);
    outputs.push(named);
  }
  graph.setOutputs(outputs);
  inferShapes(model);
  return { model, loss: lossOutput.name, gradients, lossInputs, runningStatistics, dropoutMasks };
}

/** Values whose computation depends (through float data) on a differentiated value. */
function forwardDependents(nodes: readonly Node[], wrt: readonly Value[], rules: GradientRuleRegistry): Set<Value> {
  const dependents = new Set<Value>(wrt);
  for (const node of nodes) {
    const rule = rules.get(node.op);
    const fed = node.inputs.some((input, index) => input && dependents.has(input) && !rule?.nonDifferentiable?.includes(index));
    if (!fed) continue;
    for (const output of node.outputs) if (output && (isFloat(output) || rule?.integerGradients)) dependents.add(output);
  }
  return dependents;
}

/** Nodes the loss depends on. */
function backwardReach(loss: Value): Set<Node> {
  const reached = new Set<Node>();
  const stack: Value[] = [loss];
  while (stack.length) {
    const producer = stack.pop()!.producer;
    if (!producer || reached.has(producer)) continue;
    reached.add(producer);
    for (const input of producer.inputs) if (input) stack.push(input);
  }
  return reached;
}
