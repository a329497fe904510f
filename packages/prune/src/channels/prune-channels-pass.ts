/**
 * `prune-channels{ratio=0.5 criterion=l1|l2|bn-scale|activation dataset=… samples=…}`: structured
 * channel pruning over dependency groups. Channels are removed for real (weights sliced, group
 * counts and reshape targets rewritten) and intermediate types refreshed; groups that cannot be
 * pruned safely are left whole, each with its reason (an `info` diagnostic and a statistic).
 */
import { inferShapes } from '@modelpass/ops';
import { encodeOnnx } from '@modelpass/onnx';
import { definePass, option } from '@modelpass/pass-manager';
import { keptIndices, layoutChanged } from './channel-layout.js';
import { chooseKeptChannels, CHANNEL_CRITERIA, weightScores } from './channel-scores.js';
import { applyChannelPruning } from './apply-channel-pruning.js';
import { activationScores } from './activation-scores.js';
import { prepareChannelAnalysis, retieUnchangedCopies } from './untie-shared-parameters.js';
import { channelPruningRecord, recordChannelPruning, type PrunedLayer } from '../reconstruct/prune-record.js';
import { constantNodeWeightsHint } from '../weights/prunable-layers.js';
import { reportStaleBatchNorms } from './stale-batchnorms.js';

const options = {
  ratio: option.number({ default: 0.5, min: 0, max: 1, help: 'fraction of the channels of each prunable group to remove (at least one is kept)' }),
  criterion: option.enum(CHANNEL_CRITERIA, { default: 'l1', help: 'channel importance: weight norms (l1, l2), BatchNorm |gamma| (bn-scale), mean |activation| on calibration data' }),
  dataset: option.string({ default: '', files: 'read', help: 'calibration data for criterion=activation: fashion-mnist:train, "idx:IMAGES,LABELS" (quoted: it holds a comma), npy:DIR (empty: seeded random inputs)' }),
  samples: option.integer({ default: 256, min: 1, help: 'calibration samples for criterion=activation' }),
  seed: option.integer({ default: 0, min: 0, help: 'seed of the random calibration inputs' }),
  roundTo: option.integer({ default: 1, min: 1, help: 'keep a multiple of this many channels per group (e.g. 8: CPU kernels run channel counts that are multiples of 8 faster)' }),
};

export const pruneChannels = definePass({
  name: 'prune-channels',
  summary: 'Remove the least important channels of every prunable dependency group (structured pruning)',
  description:
    'Groups every dimension that must shrink together (Conv/Gemm outputs, BatchNorm, activations, pools, the next layer\'s inputs, residual Adds, Concats, depthwise and grouped Convs, Flatten→Gemm blocks, Squeeze-Excitation, Split/Slice), scores channels, and removes the lowest `ratio` of each group for real. Groups it cannot prune safely are left whole, with the reason.',
  options,
  statistics: ['groups', 'groups-pruned', 'groups-unprunable', 'groups-untouched', 'channels-removed', 'params-sliced', 'parameters-removed', 'batchnorms-stale'],
  async run(model, context) {
    const typesUpdated = inferShapes(model, { registry: context.registry, mode: 'refresh' }).updated > 0;
    const { analysis, copies, identitiesRemoved } = prepareChannelAnalysis(model);
    const unchanged = (): ReturnType<typeof context.preserveAll> => {
      retieUnchangedCopies(model, copies);
      // A record with no layer: a reconstruct after this pass has nothing to refit (rather than 'not pruned in this pipeline').
      if (!channelPruningRecord(model)) recordChannelPruning(model, { original: new Uint8Array(0), layers: [], groups: analysis.report() });
      if (identitiesRemoved > 0) return context.preserveNone();
      return typesUpdated ? context.preserve(['uses', 'topological-order']) : context.preserveAll();
    };
    if (identitiesRemoved > 0) context.debug(`${identitiesRemoved} Identity node(s) of constants looked through`);
    const groups = analysis.groups();
    context.statistic('groups', groups.length);
    for (const group of groups) {
      if (group.reasons.length === 0) continue;
      context.statistic('groups-unprunable');
      const onlyInterface = group.reasons.every((reason) => reason.endsWith('is a graph output (its shape is part of the interface)'));
      context.report({ severity: onlyInterface ? 'info' : 'warning', reason: `channel group #${group.id} (${group.origins.join(', ')}; ${group.size} channels) left whole: ${group.reasons.join('; ')}` });
    }
    const prunable = groups.filter((group) => group.reasons.length === 0);
    if (prunable.length === 0 && context.options.ratio > 0) {
      const hint = constantNodeWeightsHint(model) ?? (groups.length > 0 ? 'each group\'s warning above says why it was left whole' : undefined);
      context.report({ severity: 'warning', reason: `prune-channels: nothing pruned: ${groups.length} channel group(s) found, none prunable`, ...(hint ? { hint } : {}) });
    }
    if (prunable.length === 0 || context.options.ratio === 0) return unchanged();
    const criterion = context.options.criterion;
    if (context.options.dataset && criterion !== 'activation') {
      context.report({ severity: 'warning', reason: `dataset '${context.options.dataset}' is not used: only criterion=activation reads calibration data (this run scores by ${criterion})` });
    }
    const scores =
      criterion === 'activation'
        ? await activationScores(model, analysis, {
            dataset: context.options.dataset,
            samples: context.options.samples,
            seed: context.options.seed,
            warn: (reason) => context.report({ severity: 'warning', reason }),
          })
        : weightScores(analysis, criterion);
    const fallback = criterion === 'bn-scale' ? weightScores(analysis, 'l1') : undefined;
    let removed = 0;
    const untouched = new Map<string, { count: number; example: string }>();
    for (const group of prunable) {
      let groupScores = scores.get(group);
      if (!groupScores && fallback?.get(group)) {
        groupScores = fallback.get(group);
        context.debug(`group #${group.id} has no BatchNormalization scale: scored by L1`);
      }
      const choice = chooseKeptChannels(group, groupScores, context.options.ratio, group.size > context.options.roundTo ? context.options.roundTo : 1);
      if (!choice.kept) {
        context.debug(`group #${group.id} (${group.origins.join(', ')}) unchanged: ${choice.skipped}`);
        context.statistic('groups-untouched');
        const cause = choice.cause ?? 'other';
        const entry = untouched.get(cause) ?? { count: 0, example: `group #${group.id} (${group.origins[0]}${group.origins.length > 1 ? ', …' : ''}): ${choice.skipped}` };
        untouched.set(cause, { ...entry, count: entry.count + 1 });
        continue;
      }
      group.kept = choice.kept;
      removed += group.size - choice.kept.length;
      context.statistic('groups-pruned');
    }
    if (untouched.size > 0) reportUntouchedGroups(untouched, prunable.length, context);
    if (removed === 0) return unchanged();
    const original = encodeOnnx(model);
    const copySizes = new Map([...copies.keys()].map((copy) => [copy, copy.constant!.shape.reduce((a, b) => a * b, 1)]));
    const applied = applyChannelPruning(analysis);
    retieUnchangedCopies(model, copies);
    // A copy that stays is new data, not in the original: its full size was counted as "before".
    const copiedElements = [...copySizes].reduce((sum, [copy, size]) => sum + (copy.constant ? size : 0), 0);
    if (copiedElements > 0) context.debug(`shared constants untied (their readers shrink differently): ${copiedElements} elements copied before slicing`);
    inferShapes(model, { registry: context.registry, mode: 'refresh' });
    context.statistic('channels-removed', removed);
    context.statistic('params-sliced', applied.paramsSliced);
    context.statistic('parameters-removed', applied.parametersBefore - applied.parametersAfter - copiedElements);
    const layers: PrunedLayer[] = analysis.consumers
      .filter((consumer) => layoutChanged(consumer.input.layout))
      .map((consumer) => ({
        node: consumer.node.name,
        output: consumer.node.output(0).name,
        keptOutputs: consumer.output && layoutChanged(consumer.output.layout) ? keptIndices(consumer.output.layout) : undefined,
        outputAxis: consumer.output?.axis ?? 1,
      }));
    recordChannelPruning(model, { original, layers, groups: analysis.report() });
    reportStaleBatchNorms(analysis.consumers, context);
    return context.preserveNone();
  },
});

const CAUSE_WORDS: Readonly<Record<string, string>> = {
  ratio: 'the ratio removes less than one channel',
  granularity: 'group granularity (one channel per group of a grouped Conv)',
  'round-to': 'round-to',
  blocks: 'channels that do not split into equal blocks',
  protected: 'Split/Slice ranges that must not become empty',
  'no-scores': 'no weight scores them',
};

/** One line without --debug: how many prunable groups kept every channel, by cause, with an example of each. */
function reportUntouchedGroups(untouched: ReadonlyMap<string, { count: number; example: string }>, prunable: number, context: Parameters<typeof pruneChannels.run>[1]): void {
  const total = [...untouched.values()].reduce((sum, { count }) => sum + count, 0);
  const causes = [...untouched].map(([cause, { count }]) => `${count} by ${cause === 'round-to' ? `round-to=${context.options.roundTo}` : CAUSE_WORDS[cause] ?? cause}`);
  const examples = [...untouched.values()].map(({ example }) => `e.g. ${example}`);
  context.report({
    severity: 'info',
    reason: `prune-channels: ${total} of ${prunable} prunable channel group(s) left untouched: ${causes.join('; ')}`,
    notes: examples,
    hint: '--debug lists every group',
  });
}
