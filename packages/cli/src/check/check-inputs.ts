/**
 * The inputs every model of a `--check` run gets: loaded from a folder, the first samples of a
 * dataset (the model's only input, one batch), or seeded random tensors (symbolic dims from
 * `--check-dim`, else 1).
 */
import { ModelpassError, type Model, type Tensor } from '@modelpass/ir';
import { datasetBatches, feedableInputs, generateInputs, loadDataset, loadInputs, type LabelledDataset } from '@modelpass/runtime';
import type { CheckInputs } from '@modelpass/report';
import type { CheckInputSource } from './check-options.js';

export interface ResolvedCheckInputs {
  readonly feeds: Map<string, Tensor>;
  readonly description: CheckInputs;
  /** The labelled samples, for accuracy (dataset inputs only). */
  readonly dataset?: LabelledDataset;
  readonly datasetSpec?: string;
  /** Notes for the user (dims that were assumed). */
  readonly notes: readonly string[];
}

function datasetFeeds(model: Model, spec: string, samples: number, cwd: string): ResolvedCheckInputs {
  const inputs = feedableInputs(model);
  if (inputs.length !== 1) {
    throw new ModelpassError({
      reason: `--check-dataset feeds one input, but the model has ${inputs.length} (${inputs.map((i) => `'${i.name}'`).join(', ')})`,
      hint: 'give the inputs as files with --check-inputs DIR',
      source: '@modelpass/cli',
    });
  }
  const input = inputs[0]!;
  const shape = input.type.kind === 'tensor' ? input.type.shape : null;
  const sampleShape = shape?.slice(1);
  if (!shape || !sampleShape || !sampleShape.every((d): d is number => typeof d === 'number')) {
    throw new ModelpassError({
      reason: `input '${input.name}' needs static sample dimensions for --check-dataset`,
      actual: shape ? `[${shape.map((d) => d ?? '?').join(',')}]` : 'unranked',
      source: '@modelpass/cli',
    });
  }
  const dataset = loadDataset(spec, { cwd, limit: samples });
  const batchSize = typeof shape[0] === 'number' && shape[0] > 0 ? shape[0] : Math.min(samples, dataset.size);
  const first = datasetBatches(dataset, { batchSize, sampleShape }).next();
  if (first.done) throw new ModelpassError({ reason: `dataset '${spec}' has no samples`, source: '@modelpass/cli' });
  const notes = batchSize < samples ? [`input '${input.name}' has a fixed batch of ${batchSize}: outputs are compared on the first ${batchSize} samples, accuracy on ${Math.min(samples, dataset.size)}`] : [];
  return {
    feeds: new Map([[input.name, first.value.input]]),
    description: { source: 'dataset', path: spec, samples: Math.min(samples, dataset.size) },
    dataset,
    datasetSpec: spec,
    notes,
  };
}

export function resolveCheckInputs(model: Model, source: CheckInputSource, cwd: string): ResolvedCheckInputs {
  switch (source.kind) {
    case 'folder': {
      const feeds = loadInputs(source.path, model);
      const first = [...feeds.values()][0];
      return { feeds, description: { source: 'folder', path: source.argument, samples: first && first.rank > 0 ? first.shape[0]! : 1 }, notes: [] };
    }
    case 'dataset':
      return datasetFeeds(model, source.spec, source.samples, cwd);
    case 'random': {
      const notes: string[] = [];
      for (const input of feedableInputs(model)) {
        if (input.type.kind !== 'tensor' || !input.type.shape) continue;
        input.type.shape.forEach((dim, axis) => {
          if (typeof dim === 'number') return;
          if (typeof dim === 'string' && source.dims[dim] !== undefined) return;
          notes.push(`input '${input.name}' axis ${axis}${typeof dim === 'string' ? ` '${dim}'` : ''} = 1 (set with --check-dim NAME=SIZE)`);
        });
      }
      const feeds = generateInputs(model, { seed: source.seed, dims: source.dims, defaultDim: 1 });
      const first = [...feeds.values()][0];
      return { feeds, description: { source: 'random', seed: source.seed, samples: first && first.rank > 0 ? first.shape[0]! : 1 }, notes };
    }
  }
}
