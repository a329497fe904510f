/**
 * quantize's use of the shared opset upgrade (`@modelpass/transforms`' opset-upgrade, moved there so train and
 * distill use the same one): QuantizeLinear needs opset 10, DynamicQuantizeLinear 11, per-axis DequantizeLinear 13.
 */
import type { Model } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import {
  describeBlocking,
  describeCounts,
  upgradeOldOpset as upgradeOldOpsetFor,
  upgradeToOpset13,
  UPGRADE_OLDEST_OPSET,
  UPGRADE_TARGET_OPSET,
} from '@modelpass/transforms';
import type { StepHost } from './nested-pass.js';

export { describeBlocking, describeCounts, upgradeToOpset13, UPGRADE_OLDEST_OPSET, UPGRADE_TARGET_OPSET, type OpsetUpgradeResult } from '@modelpass/transforms';

/**
 * A pass that writes ops of onnx opset `minimum` (QuantizeLinear: 10; DynamicQuantizeLinear: 11) on
 * an older model: upgrades it to opset 13 where every node allows it (with a warning saying what was
 * rewritten), else refuses naming the nodes that block. `writes` says what the pass needs the opset for.
 */
export function upgradeOldOpset(model: Model, host: StepHost, minimum: number, writes: string): void {
  upgradeOldOpsetFor(model, { registry: host.registry, passName: host.passName, report: host.report, source: '@modelpass/quantize' }, minimum, writes);
}

/**
 * Per-channel weights are a per-axis DequantizeLinear, which ONNX has from opset 13: a model at an older opset
 * (torch's opset-11 exports, tf2onnx's opset 12) is raised to 13 when every node means the same there, with a
 * warning saying so. Returns false, changing nothing, when a node keeps it below 13 or it is older than opset 7;
 * the caller then quantizes per tensor and says why.
 */
export function upgradeForPerAxisWeights(model: Model, host: StepHost): { upgraded: boolean; why?: string } {
  const opset = model.opset('onnx');
  if (opset === undefined || opset >= UPGRADE_TARGET_OPSET) return { upgraded: false };
  if (opset < UPGRADE_OLDEST_OPSET) return { upgraded: false, why: `only opsets ${UPGRADE_OLDEST_OPSET}–${UPGRADE_TARGET_OPSET - 1} are upgraded here` };
  inferShapes(model, { registry: host.registry, mode: 'refresh' }); // Softmax's rule reads its input rank
  const { blocking, rewritten } = upgradeToOpset13(model);
  if (blocking.length > 0) return { upgraded: false, why: `${blocking.length} node(s) keep it at opset ${opset}: ${describeBlocking(blocking)}` };
  host.report({
    severity: 'warning',
    source: '@modelpass/quantize',
    reason: `the model imported onnx opset ${opset}, which cannot hold per-channel weights (per-axis DequantizeLinear); it now imports opset ${UPGRADE_TARGET_OPSET}${rewritten.size > 0 ? `, with ${describeCounts(rewritten)} rewritten to their opset-${UPGRADE_TARGET_OPSET} inputs` : ' (no node changed its spelling)'}`,
    hint: 'per-channel=false keeps the opset (weights per tensor)',
  });
  return { upgraded: true };
}
