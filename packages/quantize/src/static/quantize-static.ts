/**
 * quantize-static as plain functions, for code and for the pass: prepare (fold BatchNormalization,
 * infer shapes), plan (placement), then quantize with calibrated ranges and lower to QDQ or
 * QOperator form. `quantizeStaticWithRanges` runs all three with ranges the caller computed.
 */
import { ModelpassError, type Model, type Node } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import type { OptionSpecs, Pass } from '@modelpass/pass-manager';
import { forwardConstantIdentities, fuseBatchNormPass, materializeQdq } from '@modelpass/transforms';
import type { ActivationDType } from './activation-params.js';
import { applyQuantizationPlan, type QuantizedTensorRecord, type RangeLookup } from './apply-plan.js';
import { whyBatchNormStays } from './batch-norm-left.js';
import { compactQdq, dropWeightZeroPoints } from './compact-qdq.js';
import { upgradeForPerAxisWeights, upgradeOldOpset } from './opset-upgrade.js';
import { findUnfoldedConvAffines } from './unfolded-conv-affine.js';
import { MIN_INT8_CONV_REDUCTION } from './cost-rules.js';
import { runStep, standaloneHost, type StepHost } from './nested-pass.js';
import { FULL_INTEGER_RULES, OP_RULES, ruleOf } from './op-rules.js';
import { rewriteForFullInteger } from './composites.js';
import { planQuantization, type LeftFloat, type QuantizationPlan } from './plan.js';
import { movePoolsAboveFloatActivations, type ReorderedPool } from './pool-before-activation.js';
import { convertToQOperator } from './qoperator.js';
import { quantizeFloatConstants, type FloatConstantRecord } from './float-constants.js';
import { NO_NAMES_KEPT, shortenGeneratedNames, snapshotNames } from './short-names.js';
import { hardSigmoidsAsAdd, type HardSigmoidAsAdd } from './hard-sigmoid-as-add.js';
import { splitHardSwishes } from './hard-swish-split.js';
import { dataMovementOnIntegers } from './integer-data-movement.js';
import { mergeGroupedConvs, type MergedGroupedConv } from './grouped-conv-merge.js';
import { PER_CHANNEL_MIN_GAIN_DB } from './weight-granularity.js';
import type { WeightRange } from './weights.js';
import { correctBiases, floatSnapshot, type BiasCorrectionResult } from './bias-correction.js';
import type { CalibrationOptions } from '../calibration/options.js';

export type QuantizedFormat = 'qdq' | 'qoperator';

export interface StaticQuantizationOptions {
  /** Activation dtype (default uint8: ORT's U8S8 kernels). */
  readonly activations?: ActivationDType;
  /** Activations with zero point at the middle (default false: asymmetric, Relu/Clip folded). */
  readonly symmetricActivations?: boolean;
  /** Weights per output channel (default true; per tensor below opset 13, with a warning). */
  readonly perChannel?: boolean;
  /** With per-channel weights: a layer keeps per-channel scales only when they gain at least this SQNR in dB over one scale (default PER_CHANNEL_MIN_GAIN_DB = 1; 0: every layer per channel). */
  readonly perChannelMinGainDb?: number;
  /** The int8 weight grid: `restricted` (default, [-127, 127]) or `full` ([-128, 127], PyTorch's; not for TFLite). See `WeightRange`. */
  readonly weightRange?: WeightRange;
  /** Node names and op types (`Conv`) left float. */
  readonly exclude?: readonly string[];
  /** `qdq` (default) or `qoperator` (QLinearConv, QLinearMatMul, QLinearAdd, ...). */
  readonly format?: QuantizedFormat;
  /** Lower the quant<> types to QuantizeLinear/DequantizeLinear (default true; false keeps the typed IR, QDQ only). */
  readonly materialize?: boolean;
  /**
   * Non-grouped Convs whose reduction (input channels × kernel elements) is below this and whose input
   * is float anyway stay float: faster in ORT (default MIN_INT8_CONV_REDUCTION = 32; 0 quantizes them).
   * Applies to 8-bit activations with materialize=true only (int16 has no integer Conv in ORT; the
   * typed IR of materialize=false is for exporters that want every Conv integer).
   */
  readonly minConvReduction?: number;
  /**
   * Grouped (not depthwise) Convs with groups narrower than 16 channels: `merge` (default) gives them
   * fewer, wider groups with block-diagonal weights, up to one dense Conv (ORT's int8 per-group path
   * is slow; grouped-conv-merge.ts), `keep` leaves them. Like minConvReduction, 8-bit with materialize=true only.
   */
  readonly groupedConvs?: 'merge' | 'keep';
  /** Large float constants only float ops read (positional embeddings): `int8` weight-only with a DequantizeLinear (default), or `keep`. */
  readonly floatConstants?: 'int8' | 'keep';
  /** With floatConstants=int8, constants with at least this many elements are stored int8 (default FLOAT_CONSTANT_MIN_ELEMENTS = 1024; at least 16). */
  readonly floatConstantsMinElements?: number;
  /**
   * Reshape/Flatten/Squeeze/Unsqueeze/Transpose between a DequantizeLinear and a QuantizeLinear with the
   * same parameters run on the integers (integer-data-movement.ts): two nodes fewer each, the same numbers.
   * Off by default: distill's fake-quantized training reads every QuantizeLinear → DequantizeLinear pair.
   */
  readonly integerDataMovement?: boolean;
  /** `keep` (default): the model's own value and node names stay; `short`: every name but the graph's inputs and outputs is shortened (smaller file; the result and report use the new names). */
  readonly names?: 'keep' | 'short';
  /**
   * Graph outputs computed by quantized ops are quantized too: a QuantizeLinear → DequantizeLinear before each
   * such float output, its range calibrated like any activation (a final MatMul/Gemm then has an integer output;
   * Softmax, Add, pools, Reshape… and Relu/Clip producing a graph output are quantized where their rule allows).
   * Default false: ORT's QGemm with a float output is faster. See `fullInteger`.
   */
  readonly quantizeOutputs?: boolean;
  /**
   * A full-integer target (TFLite's int8 kernels, microcontrollers): quantizeOutputs, every eligible Conv quantized
   * (minConvReduction is 0, whatever it is set to) and grouped Convs kept as they are (groupedConvs=keep: merging is
   * an ORT-speed rule that only makes the weights larger). What still stays float is in `leftFloat` and
   * `unsupportedNodes` (the pass warns, naming them). Default false.
   */
  readonly fullInteger?: boolean;
  /** Bias correction (bias-correction.ts): measure each layer's output-mean shift on this calibration data and subtract it from its bias. Off when absent; QDQ/QOperator with materialize=true only. */
  readonly biasCorrection?: { readonly calibration: CalibrationOptions };
}

export interface QuantizedNodeRecord {
  readonly node: string;
  readonly op: string;
  /** The integer kernel ORT runs for it. */
  readonly kernel: string;
}

export interface StaticQuantizationResult {
  readonly nodes: readonly QuantizedNodeRecord[];
  readonly tensors: readonly QuantizedTensorRecord[];
  readonly leftFloat: readonly LeftFloat[];
  /** Op types ORT has no integer kernel for, with counts (left float). */
  readonly unsupportedOps: ReadonlyMap<string, number>;
  /** The nodes behind `unsupportedOps`, by name (left float: no integer rule for their op). */
  readonly unsupportedNodes: readonly { readonly node: string; readonly op: string }[];
  readonly activationsFolded: number;
  readonly weightBytesBefore: number;
  readonly weightBytesAfter: number;
  /** Nodes converted to QOperator form (format=qoperator). */
  readonly qoperatorNodes: number;
  /** Float constants stored int8 behind a DequantizeLinear (float-constants=int8). */
  readonly floatConstants: readonly FloatConstantRecord[];
  /** Float Relu/Clip → MaxPool pairs reordered to MaxPool → Relu/Clip (same values; ORT keeps the MaxPool float). */
  readonly reorderedPools: readonly ReorderedPool[];
  /** `DQ → HardSigmoid → Q` rewritten as `DQ → Add(β/α) → Q` with the Q's scale divided by α (exact; ORT: QLinearAdd; hard-sigmoid-as-add.ts). */
  readonly hardSigmoidsAsAdd: readonly HardSigmoidAsAdd[];
  /** Reshape/Flatten/Squeeze/Unsqueeze/Transpose nodes moved onto the integers (`DQ → op → Q` → `op`; integer-data-movement.ts). */
  readonly integerDataMovement: readonly string[];
  /** Grouped Convs whose groups were merged (groupedConvs=merge). */
  readonly mergedGroupedConvs: readonly MergedGroupedConv[];
  /** What bias correction changed (with `biasCorrection`). */
  readonly biasCorrection?: BiasCorrectionResult;
}

function quantizeError(reason: string, extra: { hint?: string; expected?: string; actual?: string } = {}): ModelpassError {
  return new ModelpassError({ reason, source: '@modelpass/quantize', code: 'quantize/static', ...extra });
}

/** Forwards Identity(constant), folds BatchNormalization into Conv/Gemm, infers shapes, and warns about BatchNormalization left unfused. */
export async function prepareForQuantization(model: Model, host: StepHost = standaloneHost(), options: Pick<StaticQuantizationOptions, 'perChannel' | 'activations' | 'fullInteger'> = {}): Promise<void> {
  const opset = model.opset('onnx');
  if (opset !== undefined) refuseInt16BelowOpset21(opset, options);
  upgradeOldOpset(model, host, 10, 'QuantizeLinear/DequantizeLinear');
  if (options.perChannel ?? true) perAxisUpgradeBlocked.set(model, upgradeForPerAxisWeights(model, host).why);
  forwardConstantIdentities(model);
  await runStep(fuseBatchNormPass as unknown as Pass<OptionSpecs>, model, host);
  inferShapes(model, { registry: host.registry, mode: 'refresh' });
  for (const node of model.graph.nodesOf('onnx.BatchNormalization')) {
    host.report({
      // full-integer: not a problem (DenseNet has 60 such; a warning each buried the ones that matter), a note.
      severity: options.fullInteger ? 'info' : 'warning',
      // full-integer: quantized on its own range (FULL_INTEGER_RULES; an int8 TFLite DEPTHWISE_CONV_2D), unless the plan says otherwise.
      reason: `BatchNormalization '${node.name}' could not be folded into a Conv/Gemm and ${options.fullInteger ? 'is quantized on its own (ORT runs it in float between DequantizeLinear and QuantizeLinear)' : 'stays float'}`,
      location: node.location,
      hint: whyBatchNormStays(node),
    });
  }
  warnUnfoldedConvAffines(model, host);
}

/** Conv → constant Mul/Add steps not folded into the Conv (PP-OCRv4 rec after `simplify`): one warning naming them, with the pass that folds them. */
function warnUnfoldedConvAffines(model: Model, host: StepHost): void {
  const found = findUnfoldedConvAffines(model);
  if (found.length === 0) return;
  const named = found.slice(0, 3).map(({ conv, reader }) => `Conv '${conv.name}' → ${reader.opType} '${reader.name}'`);
  const more = found.length > 3 ? `, and ${found.length - 3} more` : '';
  host.report({
    severity: 'warning',
    source: '@modelpass/quantize',
    reason: `${found.length} Conv output${found.length === 1 ? ' is' : 's are'} scaled or shifted by a constant Mul/Add not folded into the Conv (${named.join(', ')}${more}): quantizing the Conv's output before that step costs accuracy`,
    location: found[0]!.conv.location,
    hint: 'fold them into the Conv weights and bias first: run optimize (or fuse) before quantize-static, e.g. -p optimize,quantize-static',
  });
}

/** The integer kernel ORT runs a quantized node as (MatMul/Gemm depend on whether their output is quantized). */
function kernelOf(node: Node, plan: QuantizationPlan): string {
  if (node.op === 'onnx.MatMul') return plan.outputQuantized.has(node) ? 'QLinearMatMul' : 'MatMulIntegerToFloat';
  if (node.op === 'onnx.Gemm') return plan.outputQuantized.has(node) ? 'QGemm' : 'QGemm (float output)';
  return ruleOf(node)!.kernel;
}

/**
 * activations=int16 writes int16 QuantizeLinear, which ONNX has from opset 21. modelpass's opset upgrade
 * (upgradeToOpset13, @modelpass/transforms) raises opsets 7–12 to 13 only, so it does not apply: refused before
 * that upgrade runs (the message names the opset the model imports, not the 13 it would be raised to).
 */
function refuseInt16BelowOpset21(opset: number, options: Pick<StaticQuantizationOptions, 'activations'>): void {
  if ((options.activations ?? 'uint8') !== 'int16' || opset >= 21) return;
  throw quantizeError(`activations=int16 needs onnx opset 21 (int16 QuantizeLinear); the model imports opset ${opset}`, {
    hint: `use activations=uint8 or int8, or convert the model to opset 21 with ONNX's converter (modelpass's opset upgrade stops at 13, what per-channel weights need): python3 -c "import onnx, onnx.version_converter as v; onnx.save(v.convert_version(onnx.load('in.onnx'), 21), 'out.onnx')"`,
  });
}

/** Refuses options the model's opset cannot carry (before any calibration runs). */
function refuseUnsupported(model: Model, options: StaticQuantizationOptions): void {
  const opset = model.opset('onnx') ?? 0;
  if (model.opset('onnx') === undefined) {
    throw quantizeError('quantize-static works on ONNX-dialect models; this model imports no onnx opset', {
      hint: `a TFLite model must be raised first: convert it to .onnx (modelpass convert m.tflite -o m.onnx) or put raise-tflite before quantize-static`,
    });
  }
  refuseInt16BelowOpset21(opset, options);
  // A model prepareForQuantization did not see (planStaticQuantization called on its own): opsets 7–9 are raised to 13
  // the same way (upgradeToOpset13, with a warning), older ones or a blocking node refused naming why.
  if (opset < 10) upgradeOldOpset(model, standaloneHost(), 10, 'QuantizeLinear/DequantizeLinear');
  if (options.weightRange === 'full' && options.materialize === false) {
    throw quantizeError('weight-range=full needs materialize=true: the typed IR of materialize=false is for exporters such as TFLite, whose int8 weights must stay in [-127, 127]', { hint: 'use weight-range=restricted (the default) for a TFLite export' });
  }
  if ((options.format ?? 'qdq') === 'qoperator' && options.materialize === false) {
    throw quantizeError('format=qoperator needs materialize=true (QOperator nodes are built from the lowered QDQ groups)');
  }
}

/** Why prepareForQuantization could not raise a model to opset 13 for per-channel weights (named in effectivePerChannel's warning). */
const perAxisUpgradeBlocked = new WeakMap<Model, string | undefined>();

/** The per-channel setting that applies: per tensor below opset 13 (per-axis DequantizeLinear; prepareForQuantization raises the opset where it can), with a warning. */
function effectivePerChannel(model: Model, options: StaticQuantizationOptions, host: StepHost): boolean {
  const opset = model.opset('onnx') ?? 0;
  const perChannel = options.perChannel ?? true;
  if (perChannel && opset < 13) {
    const why = perAxisUpgradeBlocked.get(model);
    host.report({ severity: 'warning', reason: `per-channel weights need onnx opset 13 (per-axis DequantizeLinear); the model imports opset ${opset}${why ? ` and was not raised to 13 (${why})` : ''}, so weights are quantized per tensor` });
    return false;
  }
  return perChannel;
}

/** The placement plan for a prepared model (see plan.ts). */
export function planStaticQuantization(model: Model, options: StaticQuantizationOptions = {}): QuantizationPlan {
  refuseUnsupported(model, options);
  const exclude = options.exclude ?? [];
  for (const entry of exclude) {
    const known = OP_RULES.has(entry) || OP_RULES.has(`onnx.${entry}`) || FULL_INTEGER_RULES.has(`onnx.${entry}`) || [...model.graph.nodes()].some((node) => node.name === entry || node.opType === entry);
    if (!known) throw quantizeError(`exclude= names '${entry}', which is neither a node of the model nor an op type`, { hint: 'give node names or op types such as Conv, MatMul' });
  }
  const costRules = (options.activations ?? 'uint8') !== 'int16' && (options.materialize ?? true);
  const fullInteger = options.fullInteger ?? false;
  const planOptions = {
    exclude,
    fuseActivations: !(options.symmetricActivations ?? false),
    minConvReduction: costRules && !fullInteger ? (options.minConvReduction ?? MIN_INT8_CONV_REDUCTION) : 0,
    quantizeOutputs: fullInteger || (options.quantizeOutputs ?? false),
    quantizeConstantOperands: fullInteger,
    fullIntegerRules: fullInteger,
    fixedSoftmaxRange: fullInteger && (options.activations ?? 'uint8') !== 'int16' && !(options.symmetricActivations ?? false),
  };
  // LayerNormalization, Pow(x, 2), Div(a, Sqrt(v)), Div(x, c) spelled with ops an int8 target runs (composites.ts), before calibration.
  if (fullInteger) rewriteForFullInteger(model.graph, model.opset('onnx') ?? 13, exclude);
  const first = planQuantization(model.graph, planOptions);
  // Float Relu/Clip → MaxPool before a quantized op: MaxPool first, so ORT keeps it float; HardSwish
  // between quantized ops as x · HardSigmoid(x), two integer kernels (then plan again).
  const quantized = new Set<Node>([...first.nodes, ...first.fusedActivations.values()]);
  const reorderedPools = movePoolsAboveFloatActivations(model.graph, (node) => quantized.has(node));
  const hardSwishes = costRules ? splitHardSwishes(model.graph, (node) => quantized.has(node)) : [];
  // Narrow grouped Convs with fewer, wider groups (same outputs; faster int8 kernels in ORT).
  const mergedGroupedConvs = costRules && !fullInteger && (options.groupedConvs ?? 'merge') === 'merge' ? mergeGroupedConvs(model.graph, (node) => quantized.has(node)) : [];
  if (reorderedPools.length === 0 && hardSwishes.length === 0) return mergedGroupedConvs.length === 0 ? first : { ...first, mergedGroupedConvs };
  return { ...planQuantization(model.graph, planOptions), reorderedPools, splitHardSwishes: hardSwishes, mergedGroupedConvs };
}

/** Applies a plan with ranges, then lowers (materialize-qdq) and converts to QOperator form when asked. */
export async function finishStaticQuantization(
  model: Model,
  plan: QuantizationPlan,
  ranges: RangeLookup,
  options: StaticQuantizationOptions = {},
  host: StepHost = standaloneHost(),
): Promise<StaticQuantizationResult> {
  refuseUnsupported(model, options);
  const perChannel = effectivePerChannel(model, options, host);
  const before = options.names === 'short' ? NO_NAMES_KEPT : snapshotNames(model.graph);
  const renamedNodes = new Map<string, string>();
  const floatModel = options.biasCorrection && (options.materialize ?? true) ? floatSnapshot(model) : undefined;
  let biasCorrection: BiasCorrectionResult | undefined;
  const applied = applyQuantizationPlan(plan, ranges, {
    perChannel,
    perChannelMinGainDb: options.perChannelMinGainDb ?? PER_CHANNEL_MIN_GAIN_DB,
    weightRange: options.weightRange ?? 'restricted',
    ...(plan.perTensorWeights ? { perTensorNodes: plan.perTensorWeights } : {}),
    activations: { dtype: options.activations ?? 'uint8', symmetric: options.symmetricActivations ?? false },
  });
  let qoperatorNodes = 0;
  let floatConstants: FloatConstantRecord[] = [];
  let tensors = applied.tensors;
  let asAdd: HardSigmoidAsAdd[] = [];
  let integerDataMovement: string[] = [];
  if (options.materialize ?? true) {
    if ((options.floatConstants ?? 'int8') === 'int8') floatConstants = quantizeFloatConstants(model.graph, options.floatConstantsMinElements);
    await runStep(materializeQdq as unknown as Pass<OptionSpecs>, model, host);
    if ((options.activations ?? 'uint8') !== 'int16') asAdd = hardSigmoidsAsAdd(model.graph);
    // compact-qdq merges identical initializers (a weight two layers share is quantized the same for
    // both): a record whose name goes follows its DequantizeLinear to the one kept, else the report
    // found no integers for it and claimed SQNR ∞, cosine 1.
    const constantReaders = new Map(tensors.filter((t) => t.kind !== 'activation').map((t) => [t.tensor, model.graph.getValue(t.tensor)?.users[0]] as const));
    await compactQdq(model, host);
    tensors = tensors.map((t) => {
      if (t.kind === 'activation' || model.graph.getValue(t.tensor)) return t;
      const kept = constantReaders.get(t.tensor)?.inputs[0];
      return kept ? { ...t, tensor: kept.name } : t;
    });
    if (floatModel) biasCorrection = await correctBiases(model, floatModel, plan.nodes.map((node) => node.name), options.biasCorrection!.calibration, host);
    const movedOntoIntegers = options.integerDataMovement ? dataMovementOnIntegers(model.graph) : [];
    integerDataMovement = movedOntoIntegers.map((entry) => entry.node.name);
    // The report names the op's output (now the integers) where it named the QuantizeLinear's.
    const replacedBy = new Map(movedOntoIntegers.map((entry) => [entry.replaced, entry.node.output(0)] as const));
    tensors = tensors.map((t) => (replacedBy.has(t.tensor) ? { ...t, tensor: replacedBy.get(t.tensor)!.name } : t));
    if ((options.format ?? 'qdq') === 'qoperator') qoperatorNodes = convertToQOperator(model).converted;
    // Last of the rewrites: bias correction, integer data movement and QOperator read every zero point.
    dropWeightZeroPoints(model.graph);
    // The model's own names stay; what the pass added gets short names, and the report follows them.
    const renamed = shortenGeneratedNames(model.graph, before, renamedNodes);
    tensors = tensors.map((t) => (renamed.has(t.tensor) ? { ...t, tensor: renamed.get(t.tensor)! } : t));
  }
  const unsupportedOps = new Map(plan.unsupportedOps);
  if (asAdd.length > 0) {
    const left = (unsupportedOps.get('HardSigmoid') ?? 0) - asAdd.length;
    if (left > 0) unsupportedOps.set('HardSigmoid', left);
    else unsupportedOps.delete('HardSigmoid');
  }
  return {
    nodes: [
      ...plan.nodes.map((node) => ({ node: renamedNodes.get(node.name) ?? node.name, op: node.opType, kernel: kernelOf(node, plan) })),
      ...asAdd.map((entry) => ({ node: entry.node, op: 'HardSigmoid', kernel: `QLinearAdd (+${formatShift(entry.shift)}; α and the clips in the QuantizeLinear)` })),
    ],
    tensors,
    leftFloat: renamedNodes.size === 0 ? plan.leftFloat : plan.leftFloat.map((entry) => ({ ...entry, node: renamedNodes.get(entry.node) ?? entry.node })),
    unsupportedOps,
    unsupportedNodes: plan.unsupportedNodes
      .filter((entry) => !(entry.op === 'HardSigmoid' && asAdd.some((added) => added.node === entry.node)))
      .map((entry) => ({ ...entry, node: renamedNodes.get(entry.node) ?? entry.node })),
    activationsFolded: applied.activationsFolded,
    weightBytesBefore: applied.weightBytesBefore,
    weightBytesAfter: applied.weightBytesAfter,
    qoperatorNodes,
    floatConstants,
    reorderedPools: plan.reorderedPools,
    hardSigmoidsAsAdd: asAdd,
    integerDataMovement: integerDataMovement.map((name) => renamedNodes.get(name) ?? name),
    mergedGroupedConvs: plan.mergedGroupedConvs,
    ...(biasCorrection ? { biasCorrection } : {}),
  };
}

const formatShift = (shift: number) => String(Number(shift.toPrecision(6)));

/** The whole of quantize-static with ranges the caller computed (tensor name → {min, max} in the float model). */
export async function quantizeStaticWithRanges(
  model: Model,
  ranges: ReadonlyMap<string, { readonly min: number; readonly max: number }> | RangeLookup,
  options: StaticQuantizationOptions = {},
  host: StepHost = standaloneHost(),
): Promise<StaticQuantizationResult> {
  await prepareForQuantization(model, host, options);
  const plan = planStaticQuantization(model, options);
  const lookup: RangeLookup = typeof ranges === 'function' ? ranges : (tensor) => ranges.get(tensor);
  return finishStaticQuantization(model, plan, lookup, options, host);
}
