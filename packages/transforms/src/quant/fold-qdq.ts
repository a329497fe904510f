import { tensorType, type Node, type Use, type Value } from '@modelpass/ir';
import { definePass } from '@modelpass/pass-manager';
import { constantOf } from '../util/constants.js';
import { removeDeadCode, snapshotDead } from '../util/dead-code.js';
import { graphsOfModel } from '../util/graph-walk.js';
import { preserved } from '../passes/pattern-pass.js';
import { readsIntegers } from './integer-readers.js';
import { describeParams, readQdqParams, sameParams, type ReadParams } from './qdq-params.js';
import { quantizedTypeOf, quantTypeProblem, type QuantizedTensorType } from './storage-types.js';

/** Why a DequantizeLinear stays (undefined: folded). */
type Outcome = string | undefined;

function rankOf(value: Value): number | undefined {
  const constant = constantOf(value);
  if (constant) return constant.rank;
  return value.type.kind === 'tensor' && value.type.shape ? value.type.shape.length : undefined;
}

/** The quant<> type for `integers`; its shape from the integers (a constant, a typed value), else from `reals`. */
function quantType(integers: Value, params: ReadParams, reals?: Value): QuantizedTensorType | string {
  const constant = constantOf(integers);
  const shapeOf = (value: Value | undefined) => (value && value.type.kind === 'tensor' ? value.type.shape : null);
  const shape = constant ? constant.shape : (shapeOf(integers) ?? shapeOf(reals));
  const type = tensorType(params.storage, shape, params.quant) as QuantizedTensorType;
  const problem = quantTypeProblem(type);
  return problem ? `the parameters are not a valid quant<> type: ${problem.reason}` : type;
}

/**
 * The uses of the integers that stop it from becoming a quant value: anything but a graph output,
 * an integer-reading input, or a DequantizeLinear with the same params.
 */
function foreignIntegerUse(integers: Value, params: ReadParams): string | undefined {
  for (const use of integers.uses) {
    const node = use.node;
    if (!node || readsIntegers(node.op, use.index) && node.op !== 'onnx.DequantizeLinear') continue;
    if (node.op === 'onnx.DequantizeLinear' && use.index === 0) {
      const other = readQdqParams(node);
      if ('reason' in other) return `'${integers.name}' is dequantized by '${node.name}': ${other.reason}`;
      if (!sameParams(other, params, rankOf(integers))) {
        return `'${integers.name}' is dequantized by '${node.name}' with ${describeParams(other)}, not ${describeParams(params)} (a requantization)`;
      }
      if (node.output(0).isGraphOutput) return `'${node.name}' also dequantizes '${integers.name}' into a graph output`;
      continue;
    }
    return `'${integers.name}' is also read as integers by '${node.name}' (${node.op})`;
  }
  return undefined;
}

/** The DequantizeLinear nodes reading `integers` (all with the same params, checked before). */
function dequantizersOf(integers: Value): Node[] {
  return [...new Set([...integers.uses].map((use: Use) => use.node).filter((n): n is Node => n?.op === 'onnx.DequantizeLinear'))];
}

/** Each DequantizeLinear's readers now read `reals`; the DequantizeLinear nodes go. */
function bypassDequantizers(integers: Value, reals: Value): number {
  const nodes = dequantizersOf(integers);
  for (const node of nodes) {
    node.output(0).replaceAllUsesWith(reals, { keepOutputNames: false });
    node.erase();
  }
  return nodes.length;
}

/** DequantizeLinear of stored integers (a constant or a graph input): the integers become the quant value. */
function foldStoredIntegers(integers: Value, params: ReadParams): Outcome {
  const existing = quantizedTypeOf(integers);
  if (existing) {
    const own: ReadParams = { storage: existing.dtype, quant: existing.quant };
    return sameParams(own, params, rankOf(integers)) ? undefined : `'${integers.name}' already has a different quant<> type`;
  }
  const type = quantType(integers, params);
  if (typeof type === 'string') return type;
  const blocker = foreignIntegerUse(integers, params);
  if (blocker) return blocker;
  integers.type = type;
  const producer = integers.producer;
  if (producer?.op === 'onnx.Constant') {
    const attribute = producer.getAttribute('value');
    if (attribute?.kind !== 'tensor') return `'${producer.name}' is an onnx.Constant without a value tensor`;
    producer.setAttribute('value', { kind: 'tensor', value: attribute.value.withQuant(type.quant) });
  } else if (integers.constant) {
    integers.constant = integers.constant.withQuant(type.quant);
  }
  bypassDequantizers(integers, integers);
  return undefined;
}

/**
 * QuantizeLinear(reals) -> integers -> DequantizeLinear with the same params: the node that computed
 * the reals now computes the quant value, under the integers' name.
 */
function foldPair(quantize: Node): Outcome {
  const integers = quantize.output(0);
  const reals = quantize.inputs[0];
  if (!reals) return 'it has no input';
  const params = readQdqParams(quantize);
  if ('reason' in params) return params.reason;
  const producer = reals.producer;
  if (!producer) return reals.isGraphInput ? `'${reals.name}' is a graph input (the model takes reals)` : `'${reals.name}' is a constant: run fold-constants first`;
  if (producer.op === 'onnx.Constant') return `'${reals.name}' is a constant: run fold-constants first`;
  if (reals.isGraphOutput) return `'${reals.name}' (the reals) is also a graph output`;
  if (reals.useCount !== 1) return `'${reals.name}' (the reals) is also read by another node`;
  if (reals.type.kind === 'tensor' && reals.type.dtype !== 'float32') return `'${reals.name}' is ${reals.type.dtype}; quant<> types hold float32 reals`;
  const type = quantType(integers, params, reals);
  if (typeof type === 'string') return type;
  const blocker = foreignIntegerUse(integers, params);
  if (blocker) return blocker;

  const name = integers.name;
  bypassDequantizers(integers, reals);
  integers.replaceAllUsesWith(reals, { keepOutputNames: false });
  quantize.erase();
  reals.rename(name);
  reals.type = type;
  return undefined;
}

/** DequantizeLinear of stored integers (a constant, an onnx.Constant or a graph input). */
function foldDequantize(node: Node): Outcome {
  const integers = node.inputs[0];
  if (!integers) return 'it has no input';
  const params = readQdqParams(node);
  if ('reason' in params) return params.reason;
  if (node.output(0).isGraphOutput) return `its output '${node.output(0).name}' is a graph output (the model returns reals)`;
  const producer = integers.producer;
  if (!producer || producer.op === 'onnx.Constant') return foldStoredIntegers(integers, params);
  return `its input '${integers.name}' is computed by '${producer.name}' (${producer.op}), not a QuantizeLinear or stored integers`;
}

/** What fold-qdq does with one node: fold a QuantizeLinear (with its DequantizeLinears) or a DequantizeLinear of stored integers. */
function foldNode(node: Node): { kind: 'pair' | 'stored'; outcome: Outcome } | undefined {
  if (node.op === 'onnx.QuantizeLinear') return { kind: 'pair', outcome: foldPair(node) };
  if (node.op !== 'onnx.DequantizeLinear') return undefined;
  // A DequantizeLinear of a QuantizeLinear's integers goes with that QuantizeLinear (visited first).
  if (node.inputs[0]?.producer?.op === 'onnx.QuantizeLinear') return undefined;
  return { kind: 'stored', outcome: foldDequantize(node) };
}

export const foldQdq = definePass({
  name: 'fold-qdq',
  summary: 'Fold ONNX QuantizeLinear/DequantizeLinear pairs (and DequantizeLinear of stored integers) into quant<> tensor types',
  description:
    'The inverse of materialize-qdq. DequantizeLinear of a constant or graph input of integers gives that value a quant<> type ' +
    'and its readers read it directly. QuantizeLinear(r) -> q -> DequantizeLinear with equal parameters makes the node that computed ' +
    'r compute q (named q, typed quant<>). Left alone, with the reason in --debug and the left-alone statistic: non-constant or ' +
    'non-float32 scales, blocked or float8 quantization, requantization (Q and DQ params differ), a DequantizeLinear output that is ' +
    'a graph output, reals that are a graph input, a constant, or read elsewhere, integers also read by other ops.',
  statistics: ['dequantize-folded', 'pairs-folded', 'constants-folded', 'left-alone'],
  run(model, context) {
    const dead = snapshotDead(model);
    let folded = 0;
    for (const graph of graphsOfModel(model)) {
      for (const node of [...graph.nodes()]) {
        if (node.graph !== graph) continue;
        const integers = node.op === 'onnx.QuantizeLinear' ? node.outputs[0] : node.inputs[0];
        const dequantizers = integers ? dequantizersOf(integers).length : 0;
        const result = foldNode(node);
        if (!result) continue;
        if (result.outcome !== undefined) {
          context.debug(`left ${node.op} '${node.name}' alone: ${result.outcome}`);
          context.statistic('left-alone');
          continue;
        }
        folded++;
        context.statistic('dequantize-folded', dequantizers);
        context.statistic(result.kind === 'pair' ? 'pairs-folded' : 'constants-folded');
      }
    }
    removeDeadCode(model, { filter: (item) => !dead.has(item) });
    return preserved(context, folded > 0);
  },
});
