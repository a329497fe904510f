import { definePass, option } from '@modelpass/pass-manager';
import { sinkTransposes } from '../transpose/sink-transposes.js';

export const sinkTransposesPass = definePass({
  name: 'sink-transposes',
  summary: 'Move Transposes down through layout-agnostic ops until they cancel, fold into constants or reach the outputs',
  description:
    'Each onnx.Transpose moves through elementwise and broadcasting ops (constants are transposed offline, other inputs get the inverse), ' +
    'ops with an axis (Concat, Split, Softmax, Reduce*, Slice, Pad, Squeeze/Unsqueeze, Gather, Resize, Tile, Expand) renumbered, ' +
    'when that adds no transposes. Transposes that meet merge or cancel; one before Flatten/Reshape→Gemm/MatMul is absorbed by ' +
    'permuting the weight rows; one that moves only size-1 dims becomes a Reshape. Outputs are unchanged (same values, same layout).',
  options: {
    maxSweeps: option.integer({ default: 64, min: 1, help: 'sweeps over the graph at most' }),
  },
  statistics: ['transposes-pushed', 'transposes-merged', 'transposes-folded', 'transposes-absorbed', 'transposes-reshaped', 'transposes-remaining'],
  run(model, context) {
    const result = sinkTransposes(model, { maxSweeps: context.options.maxSweeps, debug: (message) => context.debug(message) });
    context.statistic('transposes-pushed', result.pushed);
    context.statistic('transposes-merged', result.merged);
    context.statistic('transposes-folded', result.folded);
    context.statistic('transposes-absorbed', result.absorbed);
    context.statistic('transposes-reshaped', result.reshaped);
    context.statistic('transposes-remaining', result.remaining);
    const changed = result.pushed + result.merged + result.folded + result.absorbed + result.reshaped > 0;
    return changed ? context.preserveNone() : context.preserveAll();
  },
});
