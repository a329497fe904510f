/**
 * After structured pruning, a layer that lost INPUT channels (a Conv/Gemm/MatMul reading a pruned
 * group) computes different outputs; a BatchNormalization right after it still normalizes with the
 * running mean and variance measured on the unpruned network. Nothing here is wrong structurally,
 * but without recovery the network can collapse (fashion-resnet at ratio=0.25: one class, 9.3%).
 * The pass does not change numbers for it; it says so, naming the recovery. A pass cannot see the rest of the
 * pipeline, so the warning is worded to be true whether or not a recovering pass (reconstruct, train, distill)
 * follows: it says what holds now and what happens unless one does (QA s11: it read as wrong after reconstruct).
 */
import type { Node } from '@modelpass/ir';
import type { PassContext } from '@modelpass/pass-manager';
import { layoutChanged } from './channel-layout.js';
import type { ChannelConsumer } from './dependency-groups.js';

/** BatchNormalization nodes reading the output of a layer whose input channels were removed. */
export function staleBatchNorms(consumers: readonly ChannelConsumer[]): Node[] {
  const stale: Node[] = [];
  for (const consumer of consumers) {
    if (!layoutChanged(consumer.input.layout)) continue;
    const output = consumer.node.outputs[0];
    if (!output) continue;
    for (const reader of output.users) if (reader.op === 'onnx.BatchNormalization' && reader.inputs[0] === output && !stale.includes(reader)) stale.push(reader);
  }
  return stale;
}

/** The `batchnorms-stale` statistic and one warning naming them and the recovery. */
export function reportStaleBatchNorms(consumers: readonly ChannelConsumer[], context: PassContext): void {
  const stale = staleBatchNorms(consumers);
  if (stale.length === 0) return;
  context.statistic('batchnorms-stale', stale.length);
  const names = stale.slice(0, 3).map((node) => `'${node.name}'`).join(', ') + (stale.length > 3 ? `, … (${stale.length - 3} more)` : '');
  context.report({
    severity: 'warning',
    code: 'prune/batchnorms-stale',
    reason:
      `prune-channels: ${stale.length} BatchNormalization node(s) (${names}) follow layers that lost input channels and still hold the statistics ` +
      'measured before pruning; unless a later pass refits those layers or fine-tunes (reconstruct, train, distill), the accuracy can collapse (to one class)',
    hint: 'if the pipeline has no such pass, add one right after prune-channels: reconstruct{dataset=fashion-mnist:train samples=1024} (any dataset of the model\'s inputs; refits the layers that lost channels to the original outputs), or fine-tune with train{…}; measure with --check-dataset',
  });
}
