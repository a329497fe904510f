/**
 * Smaller QDQ files, same numbers: a DequantizeLinear of an int32 bias whose zero point is all zeros
 * drops it (ONNX's default zero point is 0; QLinearConv/QGemm read the bias integers as they are).
 * And identical initializers (the scale and zero point a QuantizeLinear and its DequantizeLinear both
 * spell) are merged by eliminate-duplicate-initializers.
 *
 * Weight zero points: `dropWeightZeroPoints` drops the all-zero int8 zero point of a weight
 * DequantizeLinear that only Conv/MatMul nodes read (the type of a DequantizeLinear's output follows
 * its integers, and its default zero point is 0). ONNX Runtime 1.x still fuses those groups
 * (QLinearConv, MatMulIntegerToFloat, QLinearMatMul) with the same outputs; its QDQ→QGemm fusion
 * needs the zero point (without it Gemm stays float), so a weight a Gemm reads keeps it. It runs last,
 * after the QOperator conversion, whose QLinearConv/QLinearMatMul need every zero point as an input.
 */
import type { Graph, Model, Node } from '@modelpass/ir';
import type { OptionSpecs, Pass } from '@modelpass/pass-manager';
import { eliminateDuplicateInitializers } from '@modelpass/transforms';
import { runStep, type StepHost } from './nested-pass.js';

export async function compactQdq(model: Model, host: StepHost): Promise<number> {
  let dropped = 0;
  for (const node of model.graph.nodesOf('onnx.DequantizeLinear')) {
    const stored = node.inputs[0]?.constant;
    if (!stored || stored.dtype !== 'int32') continue;
    if (dropZeroZeroPoint(model.graph, node)) dropped++;
  }
  await runStep(eliminateDuplicateInitializers as unknown as Pass<OptionSpecs>, model, host);
  return dropped;
}

/** Readers ONNX Runtime fuses with a weight DequantizeLinear that has no zero point input. */
const FUSED_WITHOUT_WEIGHT_ZERO_POINT: ReadonlySet<string> = new Set(['onnx.Conv', 'onnx.MatMul']);

/**
 * Drops the all-zero zero point of each int8 weight DequantizeLinear read only as a Conv/MatMul weight
 * (input 1); returns how many were dropped. A zero point initializer no one reads any more goes too.
 */
export function dropWeightZeroPoints(graph: Graph): number {
  let dropped = 0;
  for (const node of graph.nodesOf('onnx.DequantizeLinear')) {
    if (node.inputs[0]?.constant?.dtype !== 'int8') continue;
    const output = node.output(0);
    if (output.isGraphOutput || output.uses.size === 0) continue;
    const weightOfFusedOps = [...output.uses].every((use) => use.node !== undefined && FUSED_WITHOUT_WEIGHT_ZERO_POINT.has(use.node.op) && use.index === 1);
    if (weightOfFusedOps && dropZeroZeroPoint(graph, node)) dropped++;
  }
  return dropped;
}

/** Removes a DequantizeLinear's zero point input when it is a constant of zeros; the initializer goes when unread. */
function dropZeroZeroPoint(graph: Graph, node: Node): boolean {
  const zeroPoint = node.inputs[2];
  if (!zeroPoint?.constant || zeroPoint.constant.toNumbers().some((z) => z !== 0)) return false;
  node.setInput(2, null);
  node.trimInputs();
  if (zeroPoint.uses.size === 0 && !zeroPoint.isGraphOutput) graph.removeConstant(zeroPoint);
  return true;
}
