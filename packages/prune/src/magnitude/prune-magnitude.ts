/**
 * `prune-magnitude`: unstructured magnitude pruning of Conv/ConvTranspose/Gemm/MatMul weights.
 *
 * `scope=local` zeros the round(sparsity·n) smallest |w| of each layer; `scope=global` ranks the
 * weights of all pruned layers together, so layers with many small weights lose more. Layers named
 * in `overrides` get their own sparsity (always per layer, outside the global ranking); the first
 * and last prunable layer are skipped unless `skip-first-last=false`; `skip` names more. Exactly the
 * requested number of elements is chosen (ties: earlier layer, then lower index); weights that were
 * already zero count among the smallest. Zeros are stored densely unless `sparse-initializers=true`,
 * which stores each pruned weight whose COO form is smaller as an ONNX sparse initializer.
 */
import { ModelpassError, type Node } from '@modelpass/ir';
import { definePass, option } from '@modelpass/pass-manager';
import { checkLayerNames, firstAndLastLayers, nothingPrunedWarning, parseOverrides, prepareLayers, skipReason, type PrunableLayer } from '../weights/prunable-layers.js';
import { countZeros, magnitudes, withZeros } from '../weights/weight-data.js';
import { storeSparselyIfSmaller } from '../sparse/sparse-initializer.js';
import { selectSmallest } from './select-smallest.js';

const PASS = 'prune-magnitude';

interface Planned {
  readonly layer: PrunableLayer;
  readonly magnitudes: Float64Array;
}

export const pruneMagnitude = definePass({
  name: PASS,
  summary: 'Zero the smallest-magnitude weights of Conv/ConvTranspose/Gemm/MatMul (unstructured)',
  description:
    'Exact target sparsity per layer (scope=local) or over all pruned layers together (scope=global); first and last layer skipped by default; per-layer overrides; optional ONNX sparse initializers.',
  options: {
    sparsity: option.number({ default: 0.5, min: 0, max: 1, help: 'fraction of each pruned weight (local) or of all of them (global) to zero' }),
    scope: option.enum(['local', 'global'], { default: 'local', help: 'rank weights per layer or across all pruned layers' }),
    skip: option.list(option.string({}), { default: [], help: 'node names of layers to leave alone' }),
    skipFirstLast: option.boolean({ default: true, help: 'leave the first and the last prunable layer alone' }),
    overrides: option.list(option.string({ pattern: '.+:.+' }), { default: [], help: "per-layer sparsity, 'name:fraction' (e.g. [conv1:0.3,fc:0.8])" }),
    sparseInitializers: option.boolean({ default: false, help: 'store pruned weights as ONNX sparse initializers where that is smaller' }),
  },
  statistics: ['layers-pruned', 'layers-skipped', 'weights-considered', 'weights-zeroed', 'sparse-initializers', 'identities-forwarded', 'shared-weights-untied'],
  run(model, context) {
    const { sparsity, scope, skip, skipFirstLast, sparseInitializers } = context.options;
    const overrides = parseOverrides(context.options.overrides, PASS);
    // Each layer's plan: skipped, its own sparsity, or ranked; readers of one weight with different plans get copies.
    const planOf = (found: readonly PrunableLayer[]) => {
      const edges = firstAndLastLayers(found);
      return (node: Node) => (overrides.has(node.name) ? `override ${overrides.get(node.name)}` : skipReason(node, edges, { skip, skipFirstLast }) ? 'skip' : 'ranked');
    };
    const prepared = prepareLayers(model, planOf);
    const { layers } = prepared;
    context.statistic('identities-forwarded', prepared.identitiesForwarded);
    context.statistic('shared-weights-untied', prepared.untied);
    checkLayerNames(layers, skip, 'skip', PASS);
    checkLayerNames(layers, [...overrides.keys()], 'overrides', PASS);
    const edges = firstAndLastLayers(layers);
    const clash = [...overrides.keys()].find((name) => skip.includes(name));
    if (clash) {
      throw new ModelpassError({
        reason: `option 'overrides' of pass '${PASS}' sets a sparsity for '${clash}', which option 'skip' leaves alone`,
        hint: 'name the layer in one of the two options',
        source: '@modelpass/prune',
      });
    }

    const ranked: Planned[] = [];
    const own: { planned: Planned; fraction: number }[] = [];
    for (const layer of layers) {
      const override = overrides.get(layer.node.name);
      if (override === undefined) {
        const reason = skipReason(layer.node, edges, { skip, skipFirstLast });
        if (reason) {
          context.statistic('layers-skipped', layer.readers.length);
          context.debug(`${layer.node.name}: skipped (${reason})`);
          continue;
        }
      }
      const planned = { layer, magnitudes: magnitudes(layer.tensor) };
      if (override !== undefined) own.push({ planned, fraction: override });
      else ranked.push(planned);
    }

    const masks = new Map<Planned, Uint8Array>();
    if (scope === 'global') {
      const total = ranked.reduce((n, p) => n + p.magnitudes.length, 0);
      selectSmallest(ranked.map((p) => p.magnitudes), Math.round(sparsity * total)).forEach((mask, i) => masks.set(ranked[i]!, mask));
    } else {
      for (const p of ranked) masks.set(p, selectSmallest([p.magnitudes], Math.round(sparsity * p.magnitudes.length))[0]!);
    }
    for (const { planned, fraction } of own) masks.set(planned, selectSmallest([planned.magnitudes], Math.round(fraction * planned.magnitudes.length))[0]!);

    const warning = nothingPrunedWarning(PASS, layers, masks.size, model);
    if (warning) context.report({ severity: 'warning', source: '@modelpass/prune', ...warning });
    let changed = false;
    for (const [planned, mask] of masks) {
      const { layer } = planned;
      const before = countZeros(planned.magnitudes);
      let after = 0;
      for (let i = 0; i < mask.length; i++) if (mask[i] || planned.magnitudes[i] === 0) after++;
      // layers: every node reading the weight; weights: each stored weight once (what the file holds)
      context.statistic('layers-pruned', layer.readers.length);
      context.statistic('weights-considered', mask.length);
      context.statistic('weights-zeroed', after - before);
      const shared = layer.readers.length > 1 ? ` (weight '${layer.weight.name}' shared with ${layer.readers.slice(1).map((node) => `'${node.name}'`).join(', ')})` : '';
      context.debug(`${layer.node.name}: ${after}/${mask.length} zero (${(100 * after / Math.max(1, mask.length)).toFixed(1)}%)${shared}`);
      if (after > before) {
        layer.weight.setConstant(withZeros(layer.tensor, mask));
        changed = true;
      }
      // A graph input's default stays dense: ONNX sparse initializers are initializers only.
      if (sparseInitializers && !layer.isInputDefault && storeSparselyIfSmaller(layer.weight)) {
        context.statistic('sparse-initializers');
        changed = true;
      }
    }
    if (prepared.identitiesForwarded > 0 || prepared.untied > 0) changed = true;
    return changed ? context.preserve(['shapes', 'uses', 'topological-order']) : context.preserveAll();
  },
});
