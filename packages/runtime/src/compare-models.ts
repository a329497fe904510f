/**
 * Runs two models on the same inputs and compares their outputs: the check behind
 * `modelpass compare a.onnx b.onnx` and behind every "the conversion kept the numbers" claim.
 */
import { Model, Tensor, type Dim } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { checkMemoryBudget, defaultMemoryBudget, type PlannedInput } from './compare-budget.js';
import { compareOutputs, type CompareOptions, type ComparisonReport } from './compare.js';
import { feedsToMap, type Engine, type Feeds, type ModelSource } from './engine.js';
import { createEngine, defaultEngineFor, refereeEngineOptions, type CreateEngineOptions, type EngineName } from './engines.js';
import { feedableInputs, generateInputs, generatedIndexRanges, type GenerateInputsOptions } from './generate-inputs.js';
import { bridgeInputs, bridgeOutputs, channelsLastOnlyInFirst } from './layout-bridge.js';
import { runtimeError } from './errors.js';
import { dequantizeOutputsOf, quantizeFeedsFor } from './quantized-io-bridge.js';
import { loadInputs } from './load-inputs.js';
import { loadModel } from './model-source.js';
import { checkCompareModelsOptionNames } from './compare-option-names.js';

export interface CompareModelsOptions extends GenerateInputsOptions, CompareOptions, CreateEngineOptions {
  /** Feeds, or a folder / list of `.npy`/`.pb` files to load; random inputs from `seed` when absent. */
  readonly inputs?: Feeds | string | readonly string[];
  /** Engine for both models (default: per model, `defaultEngineFor`: 'tflite' for TFLite models, else 'ort'). */
  readonly engine?: EngineName | Engine;
  /** Different engines for the first and second model; wins over `engine`. */
  readonly engines?: readonly [EngineName | Engine, EngineName | Engine];
  /**
   * Bytes the run may plan for (default: the V8 heap limit of this process). Generated inputs, and
   * on the reference interpreter every value of the graph, are sized from the model's types before
   * anything is allocated; a run that would need more is refused with a `ModelpassError`.
   */
  readonly memoryBudget?: number;
  /** The IR of the first model when the caller has read it already (e.g. a `.pt` file that runs on torch). */
  readonly modelA?: Model;
  /** The IR of the second model when the caller has read it already (its declared input layouts are read). */
  readonly modelB?: Model;
  /**
   * 'auto' (default): where the second model declares an input as the NHWC permutation of the first's NCHW
   * one (a TFLite file converted with io-layout=nhwc), feed it channels-last and read its NHWC outputs back
   * as NCHW, with a note each; where its file records which inputs/outputs are channels-last (the
   * `modelpass.io_layout` metadata io-layout=nhwc writes), exactly those. 'as-is': feed both the same tensors.
   */
  readonly layout?: 'auto' | 'as-is';
  /**
   * Inputs held at these values (a sample rate, a mode flag): each replaces the generated or loaded
   * feed of that name. A model that does not take one, because `convert --input-value` made it a
   * constant, runs without it, so the original and its converted copy compare on the same values.
   */
  readonly fixedInputs?: ReadonlyMap<string, Tensor>;
}

export interface ModelComparison extends ComparisonReport {
  /** Engine names, first model then second. */
  readonly engines: readonly [string, string];
  /** The seed used when inputs were generated; null when inputs were given. */
  readonly seed: number | null;
  /** Names and shapes of the inputs both models ran on. */
  readonly inputs: readonly { readonly name: string; readonly dtype: string; readonly shape: readonly number[] }[];
  /**
   * Generated integer inputs drawn from a smaller range than the default [0, 9] because they index a table
   * with fewer rows (token ids read by a Gather): name → the inclusive range and the reader that bounds it.
   * Absent when there are none.
   */
  readonly inputRanges?: Readonly<Record<string, { readonly min: number; readonly max: number; readonly reader: string }>>;
  /** Inputs fed channels-last and outputs read back as NCHW for the second model (layout 'auto'). */
  readonly layoutNotes: readonly string[];
}

/** The inputs `compareModels` would use, resolved against the first model. */
export function resolveComparisonInputs(model: ModelSource, options: CompareModelsOptions): Map<string, Tensor> {
  const given = options.inputs;
  if (given === undefined) return generateInputs(loadModel(model), options);
  if (typeof given === 'string' || Array.isArray(given)) return loadInputs(given as string | readonly string[], loadModel(model));
  return feedsToMap(given as Feeds);
}

/**
 * Names of the symbolic dimensions of the inputs that need a feed, in order of appearance
 * (`['N']` for the Fashion-MNIST CNN's `input: float32[N,1,28,28]`).
 */
export function symbolicInputDims(model: Model): string[] {
  const names: string[] = [];
  for (const input of feedableInputs(model)) {
    if (input.type.kind !== 'tensor' || !input.type.shape) continue;
    for (const dim of input.type.shape) if (typeof dim === 'string' && !names.includes(dim)) names.push(dim);
  }
  return names;
}

/** The shapes `generateInputs` will give, where they can be told without generating anything. */
function plannedInputs(model: Model, options: GenerateInputsOptions): PlannedInput[] {
  const planned: PlannedInput[] = [];
  for (const input of feedableInputs(model, options.includeDefaults)) {
    if (input.type.kind !== 'tensor') continue;
    const declared: readonly Dim[] | null = options.shapes?.[input.name] ?? input.type.shape;
    if (!declared) continue;
    const shape = declared.map((dim) => (typeof dim === 'number' && dim >= 0 ? dim : typeof dim === 'string' && options.dims?.[dim] !== undefined ? options.dims[dim]! : options.defaultDim));
    if (shape.every((d): d is number => typeof d === 'number')) planned.push({ name: input.name, dtype: input.type.dtype, shape });
  }
  return planned;
}

/**
 * The feeds in the order of `model`'s inputs (then any others). An engine fed by position (torch:
 * `forward(*inputs)`) must not get them in the order their files were listed: silero VAD's
 * `input.npy, sr.npy, state.npy` fed `state` as `sr`.
 */
function inInputOrder(feeds: ReadonlyMap<string, Tensor>, model: Model | undefined): Map<string, Tensor> {
  if (!model) return new Map(feeds);
  const ordered = new Map<string, Tensor>();
  for (const input of model.graph.inputs) {
    const tensor = feeds.get(input.name);
    if (tensor) ordered.set(input.name, tensor);
  }
  for (const [name, tensor] of feeds) if (!ordered.has(name)) ordered.set(name, tensor);
  return ordered;
}

export async function compareModels(a: ModelSource, b: ModelSource, options: CompareModelsOptions = {}): Promise<ModelComparison> {
  checkCompareModelsOptionNames(options);
  const [specA, specB] = options.engines ?? [options.engine ?? defaultEngineFor(a), options.engine ?? defaultEngineFor(b)];
  const names = [specA, specB].map((spec) => (typeof spec === 'string' ? spec : spec.name));
  const onReference = names.includes('reference');
  const givenFeeds = options.inputs !== undefined && typeof options.inputs !== 'string' && !Array.isArray(options.inputs);
  // The IR of `a` is needed to generate or load inputs and for the interpreter; given feeds on ONNX
  // Runtime need none (a model only ORT can read still compares).
  const modelA = givenFeeds && !onReference ? undefined : (options.modelA ?? loadModel(a));
  // A model read here is ours to annotate: inferred shapes size the reference interpreter's values.
  if (modelA && onReference && !(a instanceof Model)) inferShapes(modelA);
  const budget = { engine: onReference ? 'reference' : names[0]!, budget: options.memoryBudget ?? defaultMemoryBudget(), ...(typeof a === 'string' ? { file: a } : {}) };
  if (modelA && options.inputs === undefined) checkMemoryBudget(modelA, plannedInputs(modelA, options), budget);
  const feeds = resolveComparisonInputs(modelA ?? a, options);
  const fixed = options.fixedInputs ?? new Map<string, Tensor>();
  for (const [name, tensor] of fixed) feeds.set(name, tensor);
  if (modelA && options.inputs !== undefined && onReference) checkMemoryBudget(modelA, [...feeds].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape })), budget);
  const engineOptions = refereeEngineOptions(options);
  const engineA = createEngine(specA, engineOptions);
  const engineB = specB === specA ? engineA : createEngine(specB, engineOptions);
  try {
    // ONNX Runtime gets the file itself (what a user would run); the interpreter the model read above.
    const modelB = options.layout === 'as-is' ? undefined : (options.modelB ?? readableModel(b));
    const reversed = modelA && modelB ? channelsLastOnlyInFirst(modelA, modelB) : [];
    if (reversed.length > 0) {
      throw runtimeError({
        reason: `the first model${modelA!.sourcePath ? ` (${modelA!.sourcePath})` : ''} takes ${reversed.map((name) => `'${name}'`).join(', ')} channels-last (its io-layout record says nhwc) and the second model does not; inputs are laid out from the first model for the second only`,
        hint: 'give the channels-last model second (compare NCHW_MODEL NHWC_MODEL)',
      });
    }
    const expected = await engineA.run(engineA.name === 'reference' && modelA ? modelA : a, inInputOrder(withoutFixedItLacks(feeds, fixed, modelA), modelA));
    const feedsB = withoutFixedItLacks(feeds, fixed, options.modelB ?? modelB);
    const bridge = modelB ? bridgeInputs(feedsB, modelB, modelA) : { feeds: feedsB, inputs: [] };
    const retyped = modelB ? bridgeFloatTypes(bridge.feeds, modelB) : [];
    const quantizedInputs = modelB ? quantizeFeedsFor(bridge.feeds, modelB) : [];
    // Outputs that come back by position (torch) take the other model's names first: reading an NHWC .tflite's outputs
    // back and dequantizing them go by name (QA s20: a traced .pt against its --io-layout nhwc .tflite compared
    // [1,3,48,64] with [1,48,64,3]).
    const ran = await engineB.run(b, inInputOrder(bridge.feeds, modelB ?? options.modelB));
    const [expectedByName, actualByName] = alignPositionalOutputs([engineA, expected, modelA], [engineB, ran, modelB]);
    let actual = actualByName;
    const layoutNotes = bridge.inputs.map((name) => `input '${name}' fed channels-last (NHWC) to the second model, which declares it so`);
    for (const { name, from, to } of retyped) layoutNotes.push(`input '${name}' (${from}) fed as ${to} to the second model, which declares it so`);
    const params = (q: { scale: number; zeroPoint: number }) => `scale ${q.scale}, zero point ${q.zeroPoint}`;
    for (const q of quantizedInputs) layoutNotes.push(`input '${q.name}' quantized to ${q.dtype} (${params(q)}) for the second model, which declares it so`);
    if (bridge.inputs.length > 0 || (bridge.recordedOutputs?.size ?? 0) > 0) {
      const read = bridgeOutputs(expectedByName, actual, bridge.recordedOutputs);
      actual = read.outputs;
      for (const name of read.bridged) layoutNotes.push(`output '${name}' of the second model read back from NHWC to NCHW`);
    }
    if (modelB) {
      const read = dequantizeOutputsOf(actual, modelB, expectedByName);
      actual = read.outputs;
      for (const q of read.bridged) layoutNotes.push(`output '${q.name}' of the second model (${q.dtype}) read as the reals it stands for (${params(q)})`);
    }
    const report = compareOutputs(expectedByName, actual, options);
    const indexRanges = options.inputs === undefined && modelA ? [...generatedIndexRanges(modelA, options)].filter(([name]) => !fixed.has(name)) : [];
    return {
      ...report,
      engines: [engineA.name, engineB.name],
      seed: options.inputs === undefined ? (options.seed ?? 0) : null,
      inputs: [...feeds].map(([name, tensor]) => ({ name, dtype: tensor.dtype, shape: tensor.shape })),
      ...(indexRanges.length > 0 ? { inputRanges: Object.fromEntries(indexRanges.map(([name, { range, reader }]) => [name, { min: range[0], max: range[1], reader }])) } : {}),
      layoutNotes,
    };
  } finally {
    if (typeof specA === 'string') await engineA.dispose();
    if (typeof specB === 'string' && engineB !== engineA) await engineB.dispose();
  }
}

const FLOAT_DTYPES = new Set(['float16', 'float32', 'float64']);

/**
 * Float feeds of another float type than the second model declares (a float16-input ONNX model and its
 * .tflite, whose inputs TFLite keeps float32; a float32 model and its convert-float16{keep-io=false}
 * form) are converted in place to the declared type, so both get the same values (float32 → float16
 * rounds them). Returns what was converted.
 */
function bridgeFloatTypes(feeds: Map<string, Tensor>, second: Model): { name: string; from: string; to: string }[] {
  const converted: { name: string; from: string; to: string }[] = [];
  for (const [name, tensor] of feeds) {
    const type = second.graph.inputs.find((value) => value.name === name)?.type;
    if (!type || type.kind !== 'tensor' || type.dtype === tensor.dtype || !FLOAT_DTYPES.has(type.dtype) || !FLOAT_DTYPES.has(tensor.dtype)) continue;
    feeds.set(name, Tensor.fromValues(type.dtype, tensor.shape, tensor.toNumbers()));
    converted.push({ name, from: tensor.dtype, to: type.dtype });
  }
  return converted;
}

/** The feeds less the fixed inputs `model` does not take (one made a constant when it was converted). */
function withoutFixedItLacks(feeds: ReadonlyMap<string, Tensor>, fixed: ReadonlyMap<string, Tensor>, model: Model | undefined): Map<string, Tensor> {
  if (fixed.size === 0 || !model) return new Map(feeds);
  const takes = new Set(feedableInputs(model).map((input) => input.name));
  return new Map([...feeds].filter(([name]) => !fixed.has(name) || takes.has(name)));
}

/** The second model's IR for its declared input types, or undefined when only its engine can read it. */
function readableModel(source: ModelSource): Model | undefined {
  try {
    return loadModel(source);
  } catch {
    return undefined;
  }
}

/**
 * An engine whose outputs come back by position (torch: `forward` returns a tuple) gets the other
 * engine's output names, in order, when both give the same number of outputs.
 */
function alignPositionalOutputs(
  [engineA, a, modelA]: [Engine, Map<string, Tensor>, Model | undefined],
  [engineB, b, modelB]: [Engine, Map<string, Tensor>, Model | undefined],
): [Map<string, Tensor>, Map<string, Tensor>] {
  // torch returns a tuple; a model read from a TorchScript archive has made-up output names (archives record none).
  const positional = (engine: Engine, model: Model | undefined): boolean => (engine as { positionalOutputs?: boolean }).positionalOutputs === true || model?.sourceFormat === 'torchscript';
  const [positionalA, positionalB] = [positional(engineA, modelA), positional(engineB, modelB)];
  if (a.size !== b.size || positionalA === positionalB) return [a, b];
  const rename = (from: Map<string, Tensor>, names: string[]): Map<string, Tensor> => new Map([...from.values()].map((t, i) => [names[i]!, t]));
  return positionalB ? [a, rename(b, [...a.keys()])] : [rename(a, [...b.keys()]), b];
}
