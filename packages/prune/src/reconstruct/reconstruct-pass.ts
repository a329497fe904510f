/**
 * `reconstruct{dataset=… samples=… ridge=…}`: layer-wise output reconstruction after
 * `prune-channels` (the cheap recovery that needs no training). For each layer that reads pruned
 * channels, in graph order, it solves a ridge-regularized least-squares problem in float64 so that
 * the layer's outputs (pre-activation) on calibration data match the ORIGINAL model's outputs of that
 * layer: the original model's activations are the targets, the pruned model's inputs to the layer
 * (with the layers before it already reconstructed) the features. Its weights and bias are replaced.
 *
 * The original model comes from the record `prune-channels` leaves beside the model object
 * (`channelPruningRecord`), so `reconstruct` runs after `prune-channels` in the same pipeline.
 */
import { ModelpassError, type Model, type Tensor } from '@modelpass/ir';
import { decodeOnnx } from '@modelpass/onnx';
import { OrtRunner } from '@modelpass/runtime';
import { definePass, option } from '@modelpass/pass-manager';
import { encodeWithOutputs, loadCalibrationData } from '../channels/calibration.js';
import { LAYER_FITS } from './layer-fits.js';
import { channelPruningRecord, type PrunedLayer } from './prune-record.js';

/** Target channels of one batch: the original layer output restricted to the kept channels. */
function keptTargets(tensor: Tensor, layer: PrunedLayer): { data: Float32Array; shape: number[] } {
  const data = tensor.dtype === 'float32' ? (tensor.data() as Float32Array) : Float32Array.from(tensor.toNumbers());
  const kept = layer.keptOutputs;
  if (!kept) return { data, shape: [...tensor.shape] };
  const axis = layer.outputAxis;
  const outer = tensor.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const size = tensor.shape[axis]!;
  const inner = tensor.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(outer * kept.length * inner);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < kept.length; k++) out.set(data.subarray((o * size + kept[k]!) * inner, (o * size + kept[k]! + 1) * inner), (o * kept.length + k) * inner);
  }
  const shape = [...tensor.shape];
  shape[axis] = kept.length;
  return { data: out, shape };
}

export const reconstruct = definePass({
  name: 'reconstruct',
  summary: 'Refit the layers after pruned channels by least squares on calibration data (after prune-channels)',
  description:
    'For every layer that reads channels prune-channels removed, solves ridge-regularized least squares (float64) so that its pre-activation outputs on calibration data match the original model\'s, and replaces its weights and bias. Runs after prune-channels in the same pipeline.',
  options: {
    dataset: option.string({ default: '', files: 'read', help: 'calibration data: fashion-mnist:train, "idx:IMAGES,LABELS" (quoted: it holds a comma), npy:DIR (empty: seeded random inputs, with a warning)' }),
    samples: option.integer({ default: 256, min: 1, help: 'calibration samples' }),
    ridge: option.number({ default: 1e-3, min: 0, help: 'ridge strength, relative to the mean diagonal of XᵀX' }),
    seed: option.integer({ default: 0, min: 0, help: 'seed of the random calibration inputs' }),
  },
  statistics: ['layers-reconstructed', 'layers-skipped'],
  async run(model: Model, context) {
    const record = channelPruningRecord(model);
    if (!record) {
      throw new ModelpassError({
        reason: 'reconstruct needs the model as it was before prune-channels, and this model was not pruned by prune-channels in this pipeline',
        source: '@modelpass/prune',
        code: 'prune/reconstruct-without-record',
        hint: "run it in the same pipeline, after pruning: 'prune-channels{ratio=0.5},reconstruct{dataset=fashion-mnist:train}'",
      });
    }
    if (record.layers.length === 0) {
      context.report({ severity: 'info', reason: 'reconstruct: nothing to refit: prune-channels removed no channel in this pipeline' });
      return context.preserveAll();
    }
    const data = loadCalibrationData(model, {
      dataset: context.options.dataset,
      samples: context.options.samples,
      seed: context.options.seed,
      warn: (reason) => context.report({ severity: 'warning', reason }),
    });
    const original = decodeOnnx(record.original);
    const runner = new OrtRunner({ maxSessions: 2 });
    try {
      for (const layer of record.layers) {
        const node = [...model.graph.nodes()].find((candidate) => candidate.name === layer.node);
        const fit = node && LAYER_FITS.get(node.op);
        const originalNode = [...original.graph.nodes()].find((candidate) => candidate.name === layer.node);
        if (!node || !fit || !originalNode || node.op !== originalNode.op || node.output(0).name !== layer.output || node.inputs[1]?.constant?.dtype !== 'float32') {
          context.statistic('layers-skipped');
          context.report({
            severity: 'warning',
            reason: `reconstruct: layer '${layer.node}' was not refit: it is gone, changed since prune-channels, or not a float32 Conv/Gemm/MatMul (run reconstruct right after prune-channels)`,
          });
          continue;
        }
        let systems;
        try {
          systems = fit.systems(node);
        } catch (error) {
          if (!(error instanceof ModelpassError)) throw error;
          context.statistic('layers-skipped');
          context.report({ severity: 'warning', reason: `${error.diagnostics[0]?.reason ?? error.message}; the layer keeps its pruned weights` });
          continue;
        }
        const featureValue = node.input(0);
        const targetValue = originalNode.output(0);
        const prunedBytes = encodeWithOutputs(model, [featureValue]);
        const originalBytes = encodeWithOutputs(original, [targetValue]);
        for (const batch of data.batches) {
          // Ctrl-C (the pipeline's signal): stop between ORT runs, not after every layer is refit.
          if (context.signal.aborted) {
            throw new ModelpassError({ reason: `reconstruct interrupted while refitting layer '${layer.node}'`, source: '@modelpass/prune', code: 'prune/interrupted', cause: context.signal.reason });
          }
          const feeds = { [data.inputName]: batch };
          const x = (await runner.run(prunedBytes, feeds, { outputs: [featureValue.name] })).get(featureValue.name)!;
          const y = keptTargets((await runner.run(originalBytes, feeds, { outputs: [targetValue.name] })).get(targetValue.name)!, layer);
          fit.addBatch(node, systems, x, y.data, y.shape);
        }
        const before = systems.map((system, i) => system.relativeResidual(fit.current(node)[i]!));
        const solutions = systems.map((system) => system.solve(context.options.ridge));
        const after = systems.map((system, i) => system.relativeResidual(solutions[i]!));
        const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
        if (mean(after) <= mean(before) * (1 + 1e-6) + 1e-12) {
          fit.write(node, solutions);
          context.statistic('layers-reconstructed');
          context.report({ severity: 'info', reason: `reconstruct: ${node.opType} '${node.name}' relative output error ${mean(before).toPrecision(3)} → ${mean(after).toPrecision(3)} on ${systems[0]!.rows} rows` });
        } else {
          context.statistic('layers-skipped');
          context.report({ severity: 'info', reason: `reconstruct: ${node.opType} '${node.name}' kept its weights (fit ${mean(after).toFixed(4)} is not better than ${mean(before).toFixed(4)})` });
        }
      }
    } finally {
      await runner.dispose();
    }
    return context.preserve(['shapes']);
  },
});
