/**
 * Keeps ORT from dragging a QuantizeLinear above a float MaxPool. When a float op (a Conv left
 * float by cost-rules.ts) feeds Relu → MaxPool → a quantized op, the QuantizeLinear sits after the
 * MaxPool; ORT's QDQ propagation moves it above the MaxPool, which then runs as a uint8 NCHW MaxPool
 * (fashion-cnn: 3.3 ms at batch 64, against 0.2 ms for the float NCHWc MaxPool). Relu and Clip are
 * monotone, so MaxPool(Relu(x)) = Relu(MaxPool(x)) exactly: running MaxPool first leaves the Relu
 * between MaxPool and QuantizeLinear, where ORT stops propagating and folds the Relu into the
 * QuantizeLinear, and the MaxPool stays float NCHWc next to the float Conv.
 *
 * The value the quantized op reads keeps its name (calibration and the report name it as before);
 * only the intermediate value changes meaning (it now carries the pooled, not yet rectified, tensor).
 */
import type { Graph, Node } from '@modelpass/ir';

export interface ReorderedPool {
  readonly pool: string;
  readonly activation: string;
}

const MONOTONE_ACTIVATIONS = new Set(['onnx.Relu', 'onnx.Clip']);

/** Whether `activation → pool` can run as `pool → activation` with every name the graph shows outside the pair unchanged. */
function swappable(activation: Node, pool: Node): boolean {
  const between = activation.output(0);
  const out = pool.output(0);
  if (between.isGraphOutput || between.uses.size !== 1 || out.isGraphOutput) return false;
  if (pool.outputs.slice(1).some((output) => output && (output.uses.size > 0 || output.isGraphOutput))) return false;
  return !!activation.inputs[0] && activation.inputs[0].type.kind === 'tensor';
}

/** Ops ORT's QDQ propagation moves a QuantizeLinear above (the shares-input ops that keep one input). */
const PROPAGATED_THROUGH = new Set(['onnx.MaxPool', 'onnx.Reshape', 'onnx.Flatten', 'onnx.Transpose', 'onnx.Squeeze', 'onnx.Unsqueeze']);

/** Whether a quantized op reads `node`'s output, directly or through float ops ORT would move its QuantizeLinear above. */
function feedsQuantized(node: Node, isQuantized: (node: Node) => boolean, depth = 0): boolean {
  const uses = [...node.output(0).uses];
  if (uses.some((use) => !!use.node && isQuantized(use.node))) return true;
  const next = uses.length === 1 ? uses[0]!.node : undefined;
  return !!next && depth < 8 && uses[0]!.index === 0 && PROPAGATED_THROUGH.has(next.op) && feedsQuantized(next, isQuantized, depth + 1);
}

/**
 * Swaps float `Relu/Clip → MaxPool` pairs whose activation reads a float op's output and whose
 * MaxPool output reaches a quantized op (directly or through Flatten/Reshape/…). `isQuantized`
 * answers from the first plan.
 */
export function movePoolsAboveFloatActivations(graph: Graph, isQuantized: (node: Node) => boolean): ReorderedPool[] {
  const moved: ReorderedPool[] = [];
  for (const activation of [...graph.nodes()]) {
    if (!MONOTONE_ACTIVATIONS.has(activation.op) || isQuantized(activation)) continue;
    const producer = activation.inputs[0]?.producer;
    if (!producer || isQuantized(producer)) continue;
    const use = [...activation.output(0).uses][0];
    const pool = use?.node;
    if (!pool || pool.op !== 'onnx.MaxPool' || use.index !== 0 || isQuantized(pool) || !feedsQuantized(pool, isQuantized)) continue;
    if (!swappable(activation, pool)) continue;
    const input = activation.inputs[0]!;
    const rectified = activation.output(0);
    const pooled = pool.output(0);
    // pool reads the activation's input; the activation reads the pooled values; readers of the old
    // pool output read the activation's output, which then takes the pool output's name and type.
    pool.setInput(0, input);
    activation.setInput(0, pooled);
    pooled.replaceUsesWith(rectified, (u) => u.node !== activation);
    const [pooledName, rectifiedName] = [pooled.name, rectified.name];
    pooled.rename(graph.uniqueName(`${pooledName}__swap`));
    rectified.rename(pooledName);
    pooled.rename(rectifiedName);
    rectified.type = pooled.type;
    activation.moveAfter(pool);
    moved.push({ pool: pool.name, activation: activation.name });
  }
  return moved;
}
