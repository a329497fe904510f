/**
 * `quantize-static{calibration=minmax|percentile|entropy|distribution dataset=… samples=256
 * format=qdq|qoperator activations=uint8|int8|int16 weights=int8 per-channel=true
 * symmetric-activations=false exclude=[…] report=FILE max-drop=… eval-dataset=…}`: post-training
 * static quantization. Folds BatchNormalization, plans where ORT fuses QDQ groups, calibrates the
 * activations it quantizes (streaming, in ORT), quantizes weights offline and lowers to QDQ (or
 * QOperator) form. With `max-drop` it keeps the most sensitive layers float until the accuracy drop
 * on `eval-dataset` is within budget.
 */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ModelpassError, writeFileAtomic, type Model } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { definePass, option } from '@modelpass/pass-manager';
import { CALIBRATION_DEFAULTS, CALIBRATION_METHODS, type CalibrationOptions } from '../calibration/options.js';
import { HISTOGRAM_STRIDE_MIN_COUNTED, histogramStrides } from '../calibration/histogram-sampling.js';
import { buildQuantizationReport, formatQuantizationReport } from '../report/layer-report.js';
import { accuracyAwareExclusions, checkAccuracyBudget, checkEvalDatasetFits, type AccuracyAwareResult } from '../accuracy/accuracy-aware.js';
import { calibrateActivations } from './activation-ranges.js';
import { dimsOption, parseDimsOption } from '../calibration/dims-option.js';
import { hostOf } from './nested-pass.js';
import { finishStaticQuantization, planStaticQuantization, prepareForQuantization, type StaticQuantizationOptions } from './quantize-static.js';
import { MIN_INT8_CONV_REDUCTION } from './cost-rules.js';
import { describeNothingToQuantize, type NothingToQuantize } from './nothing-to-quantize.js';
import { sixteenBitWeightsHint, weightsInConstantNodesWarning } from '../weights-in-constant-nodes.js';
import { alreadyQuantizedClause, quantizedLayerCount } from '../already-quantized.js';
import { describeSubgraphWeightedOps, weightedOpsInSubgraphs } from './subgraph-weighted-ops.js';
import { describeFullIntegerLeftFloat, fullIntegerLeftFloat } from './full-integer.js';

/** The --debug line saying how the histograms of `tensors` are counted (`histogram-sampling.ts`). */
function describeHistogramSampling(model: Model, tensors: readonly string[], requested: number): string {
  const strides = histogramStrides(model, tensors, requested);
  const sampled = new Map<number, number>();
  for (const stride of strides.values()) if (stride > 1) sampled.set(stride, (sampled.get(stride) ?? 0) + 1);
  if (sampled.size === 0) return `calibration: histograms from every value of the ${tensors.length} calibrated tensors${requested > 1 ? ' (histogram-stride applies from ONNX opset 10)' : ' (histogram-stride=1)'}`;
  const parts = [...sampled].sort(([a], [b]) => a - b).map(([stride, count]) => `1 in ${stride} values of ${count} tensor(s)`);
  const smallest = Math.min(...sampled.keys());
  return `calibration: histograms from ${parts.join(', ')} of ${tensors.length} (histogram-stride=${requested}: the smallest prime ≥ ${requested} dividing neither the last dimension nor the size per sample), in runs of ≥ ${smallest} × ${HISTOGRAM_STRIDE_MIN_COUNTED} values of a tensor (smaller runs count every value); min/max from every value; histogram-stride=1 gives the exact histogram`;
}

/** Why weighted ops inside If/Loop bodies stay float (calibration reads activations as graph outputs; a branch's values cannot be). */
const SUBGRAPH_HINT = 'calibration reads activations as graph outputs, which values inside an If branch or a Loop body cannot be; those ops stay float32 and the model stays valid (quantizing inside subgraphs is not supported yet)';
import { PER_CHANNEL_MIN_GAIN_DB } from './weight-granularity.js';
import { FLOAT_CONSTANT_MIN_ELEMENTS, FLOAT_CONSTANT_MIN_ELEMENTS_FLOOR } from './float-constants.js';

const options = {
  calibration: option.enum(CALIBRATION_METHODS, { default: 'minmax', help: 'how activation ranges are chosen from the calibration run' }),
  dataset: option.string({ default: '', files: 'read', help: 'calibration data: fashion-mnist:train, idx:IMAGES,LABELS, npy:DIR, or a folder of .npy/.pb inputs (empty: seeded random inputs, with a warning)' }),
  samples: option.integer({ default: 256, min: 1, help: 'calibration samples' }),
  seed: option.integer({ default: 0, min: 0, help: 'seed of the random calibration inputs' }),
  dims: dimsOption,
  percentile: option.number({ default: 99.999, min: 50, max: 100, help: 'calibration=percentile: the share of values (in %, above 50) the range keeps; ignored by the other methods' }),
  minCoverage: option.number({ default: 99.99, min: 0, max: 100, help: 'entropy/distribution: the range keeps at least this % of the values (0: plain KL search / mean ± 4 std)' }),
  histogramStride: option.integer({ min: 1, max: 65536, help: `percentile/entropy/distribution: a large tensor's histogram counts 1 in p of its values, p the smallest prime ≥ this dividing neither its last dimension nor its size per sample (parts under p × ${HISTOGRAM_STRIDE_MIN_COUNTED} values count all; min/max over every value); 1: the exact histogram (default ${CALIBRATION_DEFAULTS.histogramStride}); not for minmax` }),
  format: option.enum(['qdq', 'qoperator'], { default: 'qdq', help: 'qdq: QuantizeLinear/DequantizeLinear around float ops (ORT fuses them); qoperator: QLinearConv, QLinearMatMul, QLinearAdd, … with Q/DQ only at the boundaries' }),
  activations: option.enum(['uint8', 'int8', 'int16'], { default: 'uint8', help: 'activation dtype (uint8: ORT U8S8 kernels; int16 needs opset 21)' }),
  weights: option.enum(['int8'], { default: 'int8', help: 'weight dtype (symmetric, zero point 0)' }),
  perChannel: option.boolean({ default: true, help: 'one weight scale per output channel (opset ≥ 13)' }),
  weightRange: option.enum(['restricted', 'full'], { default: 'restricted', help: 'int8 weight grid: restricted [-127, 127], scale absmax/127 (ORT, TFLite); full [-128, 127], scale absmax/127.5 (PyTorch\'s per_channel_symmetric; needs materialize=true)' }),
  perChannelMinGain: option.number({ default: PER_CHANNEL_MIN_GAIN_DB, min: 0, help: 'with per-channel=true, a layer keeps per-channel weight scales only when they gain at least this SQNR (dB) over one scale; else per tensor (smaller file). 0: every layer per channel' }),
  symmetricActivations: option.boolean({ default: false, help: 'activations with zero point at the middle of the range (Relu/Clip are then not folded)' }),
  exclude: option.list(option.string({}), { default: [], help: 'node names or op types (Conv, MatMul, …) left float' }),
  report: option.string({ default: '', files: 'write', help: 'write the per-layer report (scale, zero point, SQNR, cosine per tensor; nodes left float) as JSON to this file' }),
  maxDrop: option.number({ default: 0, min: 0, max: 100, help: 'accuracy budget in percentage points on eval-dataset (0: off); layers are kept float, most sensitive first, until it holds' }),
  evalDataset: option.string({ default: '', files: 'read', help: 'labelled dataset for max-drop, e.g. fashion-mnist:test' }),
  minConvReduction: option.integer({ default: MIN_INT8_CONV_REDUCTION, min: 0, help: 'a non-grouped Conv with fewer multiply-adds per output (input channels × kernel) whose input is float anyway stays float: faster in ORT (0: quantize it)' }),
  groupedConvs: option.enum(['merge', 'keep'], { default: 'merge', help: 'grouped (not depthwise) Convs with groups under 16 channels: merge them into fewer, wider groups with block-diagonal weights (up to one dense Conv; ORT\'s int8 per-group kernel is slow), or keep them' }),
  floatConstants: option.enum(['int8', 'keep'], { default: 'int8', help: 'large float constants only float ops read (≥ 1024 elements, e.g. a positional embedding): int8 weight-only behind a DequantizeLinear, or keep them float32' }),
  floatConstantsMinElements: option.integer({ default: FLOAT_CONSTANT_MIN_ELEMENTS, min: FLOAT_CONSTANT_MIN_ELEMENTS_FLOOR, help: 'float-constants=int8 stores constants with at least this many elements (e.g. 64: a transformer\'s LayerNorm scales and bias vectors too; a smaller file, weight-only int8 of those vectors)' }),
  integerDataMovement: option.boolean({ default: false, help: 'Reshape/Flatten/Squeeze/Unsqueeze/Transpose between a DequantizeLinear and a QuantizeLinear with the same parameters run on the integers: two nodes fewer each, the same numbers (ORT does it when it fuses). Off by default: distill\'s fake-quantized training needs every QuantizeLinear → DequantizeLinear pair' }),
  names: option.enum(['keep', 'short'], { default: 'keep', help: 'keep: the model\'s own value and node names stay (what the pass adds gets short names); short: every value name but the graph inputs/outputs becomes short (v3) and no node name is written (the report and --debug keep the model\'s node names): a smaller file, e.g. fashion-resnet 0.266× → 0.260× in QOperator form' }),
  biasCorrection: option.enum(['auto', 'on', 'off'], { default: 'auto', help: 'subtract each Conv/Gemm/MatMul layer\'s output-mean shift per channel (quantized vs float, measured on the calibration data in one extra ORT run) from its bias; auto: on when dataset= gives real data, off with random inputs and with max-drop' }),
  quantizeOutputs: option.boolean({ default: false, help: 'quantize graph outputs computed by quantized ops too (QuantizeLinear → DequantizeLinear before each float output, range calibrated like any activation): a final MatMul/Gemm gets an integer output, and Softmax/Add/pools/Reshape/Relu… producing an output are quantized where their rule allows. Default false: ORT\'s QGemm with a float output is faster' }),
  fullInteger: option.boolean({ default: false, help: 'a full-integer target (TFLite int8, then legalize-tflite{io-type=int8 full-integer=true}): quantize-outputs=true, every eligible Conv quantized (min-conv-reduction=0, whatever it is set to), grouped Convs kept (grouped-convs=keep); warns naming each node that still stays float and why' }),
  materialize: option.boolean({ default: true, help: 'lower the quant<> types to QuantizeLinear/DequantizeLinear (false keeps the typed IR for a later materialize-qdq or a TFLite export; qdq only)' }),
};

export const quantizeStatic = definePass({
  name: 'quantize-static',
  summary: 'Post-training static quantization (int8 weights, calibrated activations) in QDQ or QOperator form, placed where ONNX Runtime fuses it',
  description:
    'Folds BatchNormalization, then quantizes Conv/MatMul/Gemm (int8 per-channel weights, int32 biases) and the ops around them that ORT runs on ' +
    'integers (Add, Mul, Concat, pools, Sigmoid, Softmax; MaxPool/Reshape/Transpose/Flatten/… share their input\'s scale); Relu/Clip after a ' +
    'quantized op fold into its output range. Ops that would only add a Q/DQ pair stay float, each with the reason (--debug). Activation ranges ' +
    'come from a streaming calibration run in ORT. Run `simplify` first for the smallest file.',
  options,
  statistics: ['nodes-quantized', 'tensors-quantized', 'weights-quantized', 'activations-folded', 'ops-left-float', 'weight-bytes-saved', 'qoperator-nodes', 'layers-kept-float', 'float-constants-quantized', 'pools-reordered', 'biases-corrected', 'grouped-convs-merged'],
  async run(model, context) {
    const o = context.options;
    const host = hostOf(context);
    const accuracyAware = o.maxDrop > 0 || o.evalDataset !== '';
    // Options first: a max-drop without eval-dataset fails before calibration warns about random inputs.
    if (accuracyAware) checkAccuracyBudget({ maxDrop: o.maxDrop, evalDataset: o.evalDataset });
    const dims = parseDimsOption(o.dims, 'quantize-static');
    if (o.histogramStride !== undefined && o.calibration === 'minmax') {
      throw new ModelpassError({
        reason: `option 'histogram-stride' of pass 'quantize-static' applies to calibration=percentile, entropy or distribution, not to calibration=minmax (min/max are read from every value)`,
        expected: 'calibration=percentile|entropy|distribution, or no histogram-stride',
        actual: `calibration=minmax histogram-stride=${o.histogramStride}`,
        source: '@modelpass/quantize',
      });
    }
    if (o.report) checkReportPath(o.report);
    if (o.fullInteger && o.minConvReduction !== MIN_INT8_CONV_REDUCTION && o.minConvReduction !== 0) {
      context.report({ severity: 'warning', reason: `option 'min-conv-reduction=${o.minConvReduction}' of pass 'quantize-static' is ignored with full-integer=true, which quantizes every eligible Conv (min-conv-reduction=0)`, hint: 'drop one of the two options' });
    }
    if (accuracyAware) await checkEvalDatasetFits(model, { maxDrop: o.maxDrop, evalDataset: o.evalDataset });
    await prepareForQuantization(model, host, { perChannel: o.perChannel, activations: o.activations, fullInteger: o.fullInteger });
    const quantizeOptions: StaticQuantizationOptions = {
      activations: o.activations,
      symmetricActivations: o.symmetricActivations,
      perChannel: o.perChannel,
      perChannelMinGainDb: o.perChannelMinGain,
      weightRange: o.weightRange,
      exclude: o.exclude,
      format: o.format,
      materialize: o.materialize,
      floatConstants: o.floatConstants,
      floatConstantsMinElements: o.floatConstantsMinElements,
      integerDataMovement: o.integerDataMovement,
      names: o.names,
      minConvReduction: o.minConvReduction,
      groupedConvs: o.groupedConvs,
      quantizeOutputs: o.quantizeOutputs,
      fullInteger: o.fullInteger,
    };
    const plan = planStaticQuantization(model, quantizeOptions);
    const inSubgraphs = describeSubgraphWeightedOps(weightedOpsInSubgraphs(model));
    const inConstantNodes = weightsInConstantNodesWarning(model, 'quantize-static');
    if (inConstantNodes) context.report(inConstantNodes);
    if (plan.nodes.length === 0) {
      context.report(
        inSubgraphs
          ? { severity: 'warning', reason: `quantize-static found nothing to quantize in the main graph; ${inSubgraphs} stay float32: quantize-static does not enter If/Loop bodies`, hint: SUBGRAPH_HINT }
          : quantizedLayerCount(model) > 0
            ? { severity: 'warning', reason: `quantize-static found nothing to quantize${alreadyQuantizedClause(model)}`, ...hintOnly(describeNothingToQuantize(plan.leftFloat.filter((entry) => entry.option !== undefined))) }
            : { severity: 'warning', ...withSixteenBitHint(describeNothingToQuantize(plan.leftFloat), model) },
      );
      return context.preserveAll();
    }
    if (inSubgraphs) context.report({ severity: 'warning', reason: `quantize-static leaves ${inSubgraphs} float32: it does not enter If/Loop bodies`, hint: SUBGRAPH_HINT });
    const calibration: CalibrationOptions = {
      method: o.calibration,
      ...(o.dataset ? { dataset: o.dataset } : {}),
      samples: o.samples,
      seed: o.seed,
      dims,
      percentile: o.percentile,
      minCoverage: o.minCoverage,
      ...(o.histogramStride !== undefined ? { histogramStride: o.histogramStride } : {}),
      warn: (reason) => context.report({ severity: 'warning', reason }),
      symmetric: () => o.symmetricActivations,
    };
    if (o.calibration !== 'minmax') context.debug(describeHistogramSampling(model, plan.calibrationTensors, o.histogramStride ?? CALIBRATION_DEFAULTS.histogramStride));
    const floatBytes = encodeOnnx(model);
    const ranges = await calibrateActivations(model, plan.calibrationTensors, calibration, { dtype: o.activations, symmetric: o.symmetricActivations });
    let finalPlan = plan;
    let accuracy: AccuracyAwareResult | undefined;
    // auto: on with real calibration data, but not in accuracy-aware mode (every trial would need its own correction run); `on` corrects every trial too.
    const correctBiases = o.biasCorrection === 'on' || (o.biasCorrection === 'auto' && o.dataset !== '' && !accuracyAware);
    const finishOptions = correctBiases ? { ...quantizeOptions, biasCorrection: { calibration } } : quantizeOptions;
    if (accuracyAware) {
      accuracy = await accuracyAwareExclusions(floatBytes, ranges, finishOptions, { maxDrop: o.maxDrop, evalDataset: o.evalDataset }, host);
      context.statistic('layers-kept-float', accuracy.exclude.length - o.exclude.length);
      if (accuracy.exclude.length > o.exclude.length) finalPlan = planStaticQuantization(model, { ...quantizeOptions, exclude: accuracy.exclude });
    }
    const result = await finishStaticQuantization(model, finalPlan, (tensor) => ranges.get(tensor), finishOptions, host);
    if (result.biasCorrection) {
      context.statistic('biases-corrected', result.biasCorrection.corrected.length);
      for (const layer of result.biasCorrection.corrected) context.debug(`bias correction: ${layer.op} '${layer.node}' output mean moved by ${layer.meanAbsShift.toPrecision(3)} on average (at most ${layer.maxAbsShift.toPrecision(3)}) over ${layer.channels} channels; subtracted from its ${layer.target}`);
      for (const layer of result.biasCorrection.skipped) context.debug(`bias correction: '${layer.node}' not corrected: ${layer.reason}`);
    }
    if (accuracy) context.debug(`max-drop: float ${accuracy.baseline.toFixed(2)}% → quantized ${accuracy.final.toFixed(2)}% (budget ${accuracy.maxDrop} pp)`);

    context.statistic('nodes-quantized', result.nodes.length);
    context.statistic('tensors-quantized', result.tensors.filter((t) => t.kind === 'activation').length);
    context.statistic('weights-quantized', result.tensors.filter((t) => t.kind === 'weight').length);
    context.statistic('activations-folded', result.activationsFolded);
    context.statistic('ops-left-float', result.leftFloat.length + [...result.unsupportedOps.values()].reduce((a, b) => a + b, 0));
    context.statistic('weight-bytes-saved', result.weightBytesBefore - result.weightBytesAfter);
    if (result.qoperatorNodes > 0) context.statistic('qoperator-nodes', result.qoperatorNodes);
    context.statistic('float-constants-quantized', result.floatConstants.length);
    for (const constant of result.floatConstants) context.debug(`stored float constant '${constant.tensor}' (${constant.elements} values, read by float ops) as int8 with a DequantizeLinear (weight-only)`);
    for (const node of result.nodes) context.debug(`quantized ${node.op} '${node.node}' (ORT: ${node.kernel})`);
    for (const left of result.leftFloat) context.debug(`left ${left.op} '${left.node}' float: ${left.reason}`);
    if (result.reorderedPools.length > 0) context.statistic('pools-reordered', result.reorderedPools.length);
    for (const pair of result.reorderedPools) {
      context.debug(`ran MaxPool '${pair.pool}' before '${pair.activation}' (same values): both stay float, and ORT folds the activation into the QuantizeLinear instead of moving it above the MaxPool (a slow uint8 NCHW MaxPool)`);
    }
    if (result.mergedGroupedConvs.length > 0) context.statistic('grouped-convs-merged', result.mergedGroupedConvs.length);
    for (const conv of result.mergedGroupedConvs) {
      context.debug(`merged the ${conv.groupsBefore} groups of Conv '${conv.node}' into ${conv.groupsAfter === 1 ? 'one dense Conv' : `${conv.groupsAfter} wider groups`} (block-diagonal weights, same outputs): ORT's int8 kernel for narrow groups is slower`);
    }
    for (const [op, count] of result.unsupportedOps) context.debug(`left ${count} ${op} float: ORT has no integer kernel for ${op}`);
    if (o.fullInteger) {
      const floatNodes = fullIntegerLeftFloat(result, [...model.graph.nodes()].map((node) => node.name));
      for (const entry of floatNodes) context.debug(`full-integer: ${entry.op} '${entry.node}' stays float32: ${entry.reason}`);
      if (floatNodes.length > 0) context.report({ severity: 'warning', ...describeFullIntegerLeftFloat(floatNodes) });
    }
    if (o.report) {
      const report = { ...(await buildQuantizationReport(floatBytes, model, result, { calibration })), ...(accuracy ? { accuracy } : {}) };
      writeFileAtomic(o.report, JSON.stringify(report, null, 2) + '\n');
      for (const line of formatQuantizationReport(report)) context.debug(line);
    }
    return context.preserveNone();
  },
});

/**
 * Refuses a report path whose folder does not exist or that is a folder, before calibration runs (QA s12:
 * `report=/no/such/dir/r.json` created /no/such/dir, while `-o` into a missing folder is refused; `report=out`
 * failed only after calibrating).
 */
function checkReportPath(report: string): void {
  const path = resolve(report);
  const fail = (reason: string, hint: string): never => {
    throw new ModelpassError({ reason: `option 'report' of pass 'quantize-static': ${reason}`, hint, location: { file: path }, source: '@modelpass/quantize' });
  };
  const folder = dirname(path);
  let folderStat;
  try {
    folderStat = statSync(folder);
  } catch {
    return fail(`its folder '${folder}' does not exist`, `create it first (mkdir -p '${folder}')`);
  }
  if (!folderStat.isDirectory()) fail(`'${folder}' is not a folder`, 'give a file path in an existing folder, e.g. report=q.report.json');
  try {
    if (statSync(path).isDirectory()) fail(`'${path}' is a folder`, 'give a file path, e.g. report=q.report.json');
  } catch (error) {
    if (ModelpassError.is(error)) throw error;
  }
}

/** The hint of a nothing-to-quantize description (the option settings that would quantize what rules left float), if any. */
function hintOnly(description: { readonly hint?: string }): { hint?: string } {
  return description.hint !== undefined ? { hint: description.hint } : {};
}

/** A warning without a hint of its own gets the 16-bit weights one, when the model's layers are float16/bfloat16. */
function withSixteenBitHint(warning: NothingToQuantize, model: Model): NothingToQuantize {
  if (warning.hint !== undefined) return warning;
  const { hint } = sixteenBitWeightsHint(model);
  return hint === undefined ? warning : { ...warning, hint };
}
