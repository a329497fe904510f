/**
 * `prune-nm`: N:M semi-structured sparsity — in every group of m consecutive weights along each
 * layer's reduction dimension (see nm-groups.ts) at most n stay nonzero: the m−n smallest |w| are
 * zeroed (ties: the lower index first; NaN counts as largest). 2:4 is what sparse tensor cores run;
 * 4:8 is also common. A layer whose reduction dim is not a multiple of m is skipped with a warning
 * (`indivisible=skip`, the default) or is an error (`indivisible=error`).
 */
import { ModelpassError, type Node } from '@modelpass/ir';
import { definePass, option } from '@modelpass/pass-manager';
import { checkLayerNames, firstAndLastLayers, nothingPrunedWarning, prepareLayers, skipReason, type PrunableLayer } from '../weights/prunable-layers.js';
import { magnitudes, withZeros } from '../weights/weight-data.js';
import { forEachGroup, groupLayout, indivisibleReason } from './nm-groups.js';

const PASS = 'prune-nm';

/** Flags the m−n smallest of each group; returns how many flagged elements were nonzero. */
function nmMask(values: Float64Array, layout: ReturnType<typeof groupLayout>, n: number, m: number): { mask: Uint8Array; zeroed: number } {
  const mask = new Uint8Array(values.length);
  let zeroed = 0;
  const order = new Array<number>(m);
  const key = (index: number) => (Number.isNaN(values[index]!) ? Infinity : values[index]!);
  forEachGroup(layout, m, (indices) => {
    for (let j = 0; j < m; j++) order[j] = indices[j]!;
    order.sort((a, b) => key(a) - key(b) || a - b);
    for (let j = 0; j < m - n; j++) {
      mask[order[j]!] = 1;
      if (values[order[j]!] !== 0) zeroed++;
    }
  });
  return { mask, zeroed };
}

export const pruneNm = definePass({
  name: PASS,
  summary: 'N:M sparsity (2:4, 4:8) along the reduction dim of Conv/ConvTranspose/Gemm/MatMul weights',
  description: 'At most n nonzeros in every group of m consecutive weights along the reduction (input-channel / K) dimension; first and last layer skipped by default.',
  options: {
    n: option.number({ default: 2, min: 0, integer: true, help: 'weights kept per group' }),
    m: option.number({ default: 4, min: 1, integer: true, help: 'group size' }),
    skip: option.list(option.string({}), { default: [], help: 'node names of layers to leave alone' }),
    skipFirstLast: option.boolean({ default: true, help: 'leave the first and the last prunable layer alone' }),
    indivisible: option.enum(['skip', 'error'], { default: 'skip', help: 'a layer whose reduction dim is not a multiple of m: skip it with a warning, or fail' }),
  },
  statistics: ['layers-pruned', 'layers-skipped', 'weights-considered', 'weights-zeroed', 'identities-forwarded', 'shared-weights-untied'],
  run(model, context) {
    const { n, m, skip, skipFirstLast, indivisible } = context.options;
    if (n > m) {
      throw new ModelpassError({ reason: `option 'n' of pass '${PASS}' is ${n}, more than m=${m}`, expected: 'n ≤ m (e.g. n=2 m=4)', source: '@modelpass/prune' });
    }
    const planOf = (found: readonly PrunableLayer[]) => {
      const edges = firstAndLastLayers(found);
      // Groups run along each reader's reduction axis: readers that group one weight differently get copies too.
      return (node: Node) => (skipReason(node, edges, { skip, skipFirstLast }) ? 'skip' : `prune ${JSON.stringify(groupLayout(node, node.input(1).constant!.shape))}`);
    };
    const prepared = prepareLayers(model, planOf);
    const { layers } = prepared;
    context.statistic('identities-forwarded', prepared.identitiesForwarded);
    context.statistic('shared-weights-untied', prepared.untied);
    checkLayerNames(layers, skip, 'skip', PASS);
    const edges = firstAndLastLayers(layers);
    let changed = prepared.identitiesForwarded > 0 || prepared.untied > 0;
    let pruned = 0;
    for (const layer of layers) {
      const reason = skipReason(layer.node, edges, { skip, skipFirstLast });
      if (reason) {
        context.statistic('layers-skipped', layer.readers.length);
        context.debug(`${layer.node.name}: skipped (${reason})`);
        continue;
      }
      const layout = groupLayout(layer.node, layer.tensor.shape);
      const problem = indivisibleReason(layout, m);
      if (problem) {
        if (indivisible === 'error') throw layer.node.error(`cannot be pruned ${n}:${m}: ${problem}`, { hint: `skip it (skip=[${layer.node.name}]) or use indivisible=skip` });
        context.statistic('layers-skipped', layer.readers.length);
        context.report({ severity: 'warning', reason: `${PASS}: layer '${layer.node.name}' left dense: ${problem}`, location: layer.node.location, source: '@modelpass/prune' });
        continue;
      }
      const values = magnitudes(layer.tensor);
      const { mask, zeroed } = nmMask(values, layout, n, m);
      pruned++;
      context.statistic('layers-pruned', layer.readers.length);
      context.statistic('weights-considered', values.length);
      context.statistic('weights-zeroed', zeroed);
      if (zeroed > 0) {
        layer.weight.setConstant(withZeros(layer.tensor, mask));
        changed = true;
      }
    }
    const warning = nothingPrunedWarning(PASS, layers, pruned, model);
    if (warning) context.report({ severity: 'warning', source: '@modelpass/prune', ...warning });
    return changed ? context.preserve(['shapes', 'uses', 'topological-order']) : context.preserveAll();
  },
});
