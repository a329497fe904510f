import { isTensorType, type Graph, type Node, type QuantParams, type Value } from '@modelpass/ir';
import { FUSIBLE_ACTIVATIONS } from '../fuse-activations.js';
import { quantOf } from './quant-values.js';

/**
 * `fuseActivations` folds RELU/RELU6/RELU_N1_TO_1 only where the activation's output has its input's
 * parameters. In a QDQ model the op before a Clip/Relu usually has other ones (`conv → Q1 → DQ → Clip →
 * Q2`): TFLite's fused activation clamps in the op's own output parameters, so the op can take the
 * activation's (Q2) and clamp there, one rounding instead of two. ORT's Q1 rounding moves a real by at
 * most s1/2, which moves its Q2 code by at most one when s1 ≤ 2·s2; and Q1 must cover every real Q2
 * keeps after the clamp (else Q1's own saturation shows). Only then is it fused: within one Q2 step.
 */

/** Ops whose int8 kernels requantize into their output's own parameters (pools keep their input's). */
const REQUANTIZING = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'ADD', 'SUB', 'MUL'].map((op) => `tflite.${op}`));

const RANGES: ReadonlyMap<string, readonly [number, number]> = new Map([
  ['RELU', [0, Number.POSITIVE_INFINITY]],
  ['RELU6', [0, 6]],
  ['RELU_N1_TO_1', [-1, 1]],
]);

function isInt8PerTensor(value: Value | null | undefined): value is Value {
  const quant = quantOf(value);
  return !!value && isTensorType(value.type) && value.type.dtype === 'int8' && !!quant && quant.axis === undefined;
}

/** The reals an int8 tensor of `quant` can hold. */
function realRange(quant: QuantParams): [number, number] {
  const [scale, zeroPoint] = [quant.scale[0]!, quant.zeroPoint[0]!];
  return [(-128 - zeroPoint) * scale, (127 - zeroPoint) * scale];
}

function fusible(activation: Node, kind: string): boolean {
  const input = activation.inputs[0];
  const producer = input?.producer;
  if (!producer || !REQUANTIZING.has(producer.op) || producer.outputs.length !== 1) return false;
  if (!isInt8PerTensor(input) || !isInt8PerTensor(activation.outputs[0]) || input.useCount !== 1 || input.isGraphOutput) return false;
  if ((producer.optionalAttr('fused_activation_function', 'string') ?? 'NONE') !== 'NONE') return false;
  const before = quantOf(input)!;
  const after = quantOf(activation.outputs[0])!;
  if (before.scale[0]! > 2 * after.scale[0]! * (1 + 1e-6)) return false;
  const [low, high] = RANGES.get(kind)!;
  const [keptLow, keptHigh] = realRange(after);
  const [coveredLow, coveredHigh] = realRange(before);
  const step = after.scale[0]!;
  return coveredLow <= Math.max(low, keptLow) + step / 2 && coveredHigh >= Math.min(high, keptHigh) - step / 2;
}

/** Fuses int8 RELU/RELU6/RELU_N1_TO_1 whose output parameters differ from the op's before them; returns how many. */
export function fuseInt8Activations(graph: Graph): number {
  let fused = 0;
  for (const activation of graph.nodeList()) {
    const kind = FUSIBLE_ACTIVATIONS.get(activation.op);
    if (!kind || !activation.graph || !fusible(activation, kind)) continue;
    const input = activation.input(0);
    const producer = input.producer!;
    input.type = activation.output(0).type;
    producer.setAttribute('fused_activation_function', { kind: 'string', value: kind });
    activation.output(0).replaceAllUsesWith(input);
    activation.erase();
    fused++;
  }
  return fused;
}
