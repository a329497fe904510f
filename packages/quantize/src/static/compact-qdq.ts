/**
 * Smaller QDQ files, same numbers: a DequantizeLinear of an int32 bias whose zero point is all zeros
 * drops it (ONNX's default zero point is 0; QLinearConv/QGemm read the bias integers as they are).
 * Weight zero points stay: ORT's QDQ→QGemm fusion needs them (without them Gemm stays float). And
 * identical initializers (the scale and zero point a QuantizeLinear and its DequantizeLinear both
 * spell) are merged by eliminate-duplicate-initializers.
 */
import type { Model } from '@modelpass/ir';
import type { OptionSpecs, Pass } from '@modelpass/pass-manager';
import { eliminateDuplicateInitializers } from '@modelpass/transforms';
import { runStep, type StepHost } from './nested-pass.js';

export async function compactQdq(model: Model, host: StepHost): Promise<number> {
  let dropped = 0;
  for (const node of model.graph.nodesOf('onnx.DequantizeLinear')) {
    const stored = node.inputs[0]?.constant;
    const zeroPoint = node.inputs[2];
    if (!stored || !zeroPoint?.constant || stored.dtype !== 'int32') continue;
    if (zeroPoint.constant.toNumbers().some((z) => z !== 0)) continue;
    node.setInput(2, null);
    node.trimInputs();
    if (zeroPoint.uses.size === 0 && !zeroPoint.isGraphOutput) model.graph.removeConstant(zeroPoint);
    dropped++;
  }
  await runStep(eliminateDuplicateInitializers as unknown as Pass<OptionSpecs>, model, host);
  return dropped;
}
