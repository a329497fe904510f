/**
 * Accuracy-aware quantize-static (`max-drop=… eval-dataset=…`): measure the float model's accuracy
 * in ONNX Runtime, quantize, and when the drop exceeds the budget, measure each quantized layer's
 * sensitivity (the accuracy regained by keeping only that layer float), then keep the most sensitive
 * layers float, one by one, until the drop is within budget. Every trial quantizes a fresh copy of
 * the float model with the same calibrated ranges (no recalibration), so trials differ only in the
 * layers kept float. Fails clearly when no layer can stay quantized.
 */
import { ModelpassError, type Model } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { evaluateAccuracy, loadDataset } from '@modelpass/runtime';
import type { StepHost } from '../static/nested-pass.js';
import { finishStaticQuantization, planStaticQuantization, prepareForQuantization, type StaticQuantizationOptions } from '../static/quantize-static.js';

export interface AccuracyBudget {
  /** Largest accepted drop, in percentage points of top-1 accuracy. */
  readonly maxDrop: number;
  /** A labelled dataset spec (`fashion-mnist:test`, `idx:…`, `npy:DIR`). */
  readonly evalDataset: string;
  readonly cwd?: string;
}

export interface LayerSensitivity {
  readonly node: string;
  readonly op: string;
  /** Accuracy (%) with every layer quantized but this one. */
  readonly accuracyWithoutIt: number;
  /** Percentage points regained by keeping this layer float. */
  readonly sensitivity: number;
  readonly keptFloat: boolean;
}

export interface AccuracyAwareResult {
  /** The exclude list to quantize with (the caller's plus the layers kept float). */
  readonly exclude: readonly string[];
  /** Accuracy in % of the float model, of everything quantized, and of the final choice. */
  readonly baseline: number;
  readonly fullyQuantized: number;
  readonly final: number;
  readonly maxDrop: number;
  /** Per quantized layer, most sensitive first; empty when the budget held without it. */
  readonly layers: readonly LayerSensitivity[];
}

function accuracyError(reason: string, hint?: string): ModelpassError {
  return new ModelpassError({ reason, source: '@modelpass/quantize', code: 'quantize/accuracy', ...(hint ? { hint } : {}) });
}

/**
 * Throws when the budget is incomplete (`max-drop` without `eval-dataset`, or the other way round).
 * quantize-static calls it before anything else runs, so a wrong option fails before calibration
 * (and before its random-inputs warning).
 */
export function checkAccuracyBudget(budget: AccuracyBudget): void {
  if (!budget.evalDataset) throw accuracyError('max-drop needs an evaluation dataset', 'add eval-dataset=fashion-mnist:test (or idx:IMAGES,LABELS, npy:DIR)');
  // max-drop=0 is the option's "off": an explicit max-drop=0 next to eval-dataset was told only "add max-drop=0.3" (QA s17)
  if (!(budget.maxDrop > 0)) throw accuracyError(`eval-dataset='${budget.evalDataset}' needs a budget: max-drop is 0, which turns the accuracy-aware mode off`, 'give the budget above 0 in percentage points, e.g. max-drop=0.3 (max-drop=0.01 keeps float every layer that costs a measurable drop)');
}

/**
 * Runs the float model on the first sample of `eval-dataset`, so a model the dataset cannot feed (two
 * inputs, int64 token ids, another sample shape) fails before calibration rather than after it (QA
 * s13: a GPT-style decoder calibrated 256 samples first). The error is the accuracy run's own, under
 * the option's name.
 */
export async function checkEvalDatasetFits(model: Model, budget: AccuracyBudget): Promise<void> {
  try {
    const dataset = loadDataset(budget.evalDataset, { limit: 1, ...(budget.cwd ? { cwd: budget.cwd } : {}) });
    await evaluateAccuracy(model, dataset, { limit: 1, datasetName: budget.evalDataset });
  } catch (error) {
    if (!ModelpassError.is(error)) throw error;
    // The accuracy run's hints name evaluateAccuracy's options and modelpass eval's flags, which a pass cannot take.
    const passSpelling = (text: string) => text.replace(/ \((?:option \w+; )?modelpass eval: [^)]*\)/g, '');
    throw new ModelpassError(
      error.diagnostics.map((d) => ({
        ...d,
        reason: `option 'eval-dataset' of pass 'quantize-static': ${passSpelling(d.reason)}`,
        ...(d.expected !== undefined ? { expected: passSpelling(d.expected) } : {}),
        ...(d.hint !== undefined ? { hint: /non-static sample dimensions/.test(d.reason) ? 'fix the symbolic sizes while converting: modelpass convert … --input-shape NAME=batch,D,…' : passSpelling(d.hint) } : {}),
      })),
    );
  }
}

const WEIGHTED = new Set(['onnx.Conv', 'onnx.MatMul', 'onnx.Gemm']);

export async function accuracyAwareExclusions(
  floatBytes: Uint8Array,
  ranges: ReadonlyMap<string, { readonly min: number; readonly max: number }>,
  options: StaticQuantizationOptions,
  budget: AccuracyBudget,
  host: StepHost,
): Promise<AccuracyAwareResult> {
  checkAccuracyBudget(budget);
  const dataset = loadDataset(budget.evalDataset, budget.cwd ? { cwd: budget.cwd } : {});
  const accuracyOf = async (bytes: Uint8Array): Promise<number> =>
    (await evaluateAccuracy(bytes, dataset, { batchSize: 500, datasetName: budget.evalDataset })).accuracy * 100;
  const quiet: StepHost = { ...host, debug: () => {}, report: () => {} };
  const trial = async (exclude: readonly string[]): Promise<{ accuracy: number; layers: { node: string; op: string }[] }> => {
    const model = decodeOnnx(floatBytes);
    await prepareForQuantization(model, quiet, options);
    const plan = planStaticQuantization(model, { ...options, exclude });
    const layers = plan.nodes.filter((node) => WEIGHTED.has(node.op)).map((node) => ({ node: node.name, op: node.opType }));
    await finishStaticQuantization(model, plan, (tensor) => ranges.get(tensor), { ...options, format: 'qdq', exclude }, quiet);
    return { accuracy: await accuracyOf(encodeOnnx(model)), layers };
  };

  const userExclude = options.exclude ?? [];
  const baseline = await accuracyOf(floatBytes);
  const full = await trial(userExclude);
  host.debug(`max-drop: float ${baseline.toFixed(2)}%, all layers quantized ${full.accuracy.toFixed(2)}% (drop ${(baseline - full.accuracy).toFixed(2)} pp, budget ${budget.maxDrop} pp)`);
  if (baseline - full.accuracy <= budget.maxDrop) {
    return { exclude: userExclude, baseline, fullyQuantized: full.accuracy, final: full.accuracy, maxDrop: budget.maxDrop, layers: [] };
  }

  const sensitivities: { node: string; op: string; accuracyWithoutIt: number; sensitivity: number }[] = [];
  for (const layer of full.layers) {
    const without = await trial([...userExclude, layer.node]);
    sensitivities.push({ ...layer, accuracyWithoutIt: without.accuracy, sensitivity: without.accuracy - full.accuracy });
  }
  sensitivities.sort((a, b) => b.sensitivity - a.sensitivity);
  const keptFloat: string[] = [];
  let final = full.accuracy;
  for (const layer of sensitivities) {
    keptFloat.push(layer.node);
    if (keptFloat.length === sensitivities.length) break;
    final = (await trial([...userExclude, ...keptFloat])).accuracy;
    host.debug(`max-drop: keeping ${keptFloat.length} layer(s) float (${keptFloat.join(', ')}): ${final.toFixed(2)}%`);
    if (baseline - final <= budget.maxDrop) break;
  }
  const layers = sensitivities.map((layer) => ({
    node: layer.node,
    op: layer.op,
    accuracyWithoutIt: Number(layer.accuracyWithoutIt.toFixed(3)),
    sensitivity: Number(layer.sensitivity.toFixed(3)),
    keptFloat: keptFloat.includes(layer.node),
  }));
  for (const layer of layers) host.debug(`max-drop: ${layer.op} '${layer.node}': ${layer.accuracyWithoutIt.toFixed(2)}% without it (${layer.sensitivity >= 0 ? '+' : ''}${layer.sensitivity.toFixed(2)} pp)${layer.keptFloat ? ', kept float' : ''}`);
  if (keptFloat.length === sensitivities.length) {
    throw accuracyError(
      `max-drop=${budget.maxDrop}: no layer can stay quantized within the budget on '${budget.evalDataset}' (float ${baseline.toFixed(2)}%, all quantized ${full.accuracy.toFixed(2)}%; most sensitive: ${layers
        .slice(0, 3)
        .map((l) => `${l.node} ${l.sensitivity >= 0 ? '+' : ''}${l.sensitivity.toFixed(2)} pp`)
        .join(', ')})`,
      'raise max-drop, calibrate with more or better data (samples=, calibration=percentile|entropy), or use per-channel weights',
    );
  }
  return { exclude: [...userExclude, ...keptFloat], baseline, fullyQuantized: full.accuracy, final, maxDrop: budget.maxDrop, layers };
}
