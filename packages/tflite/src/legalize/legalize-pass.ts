import { batchSourceReads, type Graph, type Tensor, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { definePass, option, type OptionSpecs, type Pass } from '@modelpass/pass-manager';
import { axisShufflesAsGather, inlineModelFunctions, foldConstantsPass, foldQdq, foldShapeArithmetic, foldShapes, fuseBatchNormPass, optimize, runNested } from '@modelpass/transforms';
import { reportFrozenInputs, freezeDefaultedInputs } from './defaulted-inputs.js';
import { float64AsFloat32WithNote } from './float64-as-float32.js';
import { float16AsFloat32WithNote, float16WeightsBehindDequantize } from './rules/float16-compute.js';
import { BLOCK_QUANTIZED_OPS, blockQuantizedNotes } from './rules/block-quantized-notes.js';
import { lowerToTflite, withTfliteDialect } from './legalize.js';
import { constantNodesAsInitializers, prepareCanonicalForTflite, resolveStaticStructure } from './prepare.js';
import { expandQOperators, isQOperator } from './quantized/expand-qoperator.js';
import { dynamicRangeAsHybrid, hybridFullyConnected } from './quantized/dynamic-range.js';
import { finishInt8 } from './quantized/finish-int8.js';
import { hasInt8Weights, int8WeightsOfFloatOps } from './quantized/int8-float-weights.js';
import { floatEdgesLeft } from './quantized/io-type-float-edges.js';
import { hasQuantizedActivations, prepareQuantizedForTflite } from './quantized/prepare-quantized.js';
import { keepingQuantTypes } from './quantized/quant-values.js';
import { refuseFloatNodes } from './quantized/full-integer.js';
import { recentreAsymmetricWeights } from './quantized/recentre-weights.js';
import { rescaleMismatchedQdq } from './quantized/rescale-qdq.js';
import { unshareDequantizedIntegers } from './quantized/shared-integers.js';
import { addDefaultSignature, DEFAULT_SIGNATURE_KEY } from './default-signature.js';
import { inlineIfsOfKnownConditions } from './known-conditions.js';
import { describeRetyped, retypeContradictedOutputs } from './declared-outputs.js';
import { CONTRIB_FORM_OPS } from './rules/contrib-forms.js';
import { SEQUENCE_AND_OPTIONAL_OPS } from './rules/sequences.js';

/**
 * The ops anywhere in `graph` (subgraphs included), gathered in one walk: the steps that only act on
 * some ops (QOperators, Q/DQ weights, MatMulInteger chains, Shape readers, BatchNorms) are skipped
 * without a walk of their own when none is there.
 */
function opsIn(graph: Graph, into = new Set<string>()): Set<string> {
  for (let node = graph.firstNode; node; node = node.next) {
    into.add(node.op);
    const subgraphs = node.subgraphs;
    for (let i = 0; i < subgraphs.length; i++) opsIn(subgraphs[i]!, into);
  }
  return into;
}

/** Whether a node of one of `ops` is anywhere in `graph` (subgraphs included). */
function hasOp(graph: Graph, ops: readonly string[]): boolean {
  for (let node = graph.firstNode; node; node = node.next) {
    if (ops.includes(node.op)) return true;
    for (const subgraph of node.subgraphs) if (hasOp(subgraph, ops)) return true;
  }
  return false;
}

/** `hasOp` now, for ops `present` (the census taken before) says the graph had: none there then, none now (no step before adds them). */
function stillHasOp(graph: Graph, present: ReadonlySet<string>, ops: readonly string[]): boolean {
  return ops.some((op) => present.has(op)) && hasOp(graph, ops);
}

const SHAPE_READERS = ['onnx.Shape', 'onnx.Size'];
const BATCH_NORMS = ['onnx.BatchNormalization'];
const CONTROL_FLOW = ['onnx.If', 'onnx.Loop', 'onnx.Scan'];
/** What `resolveStaticStructure` acts on: control flow, sequences and optionals, com.microsoft FusedConv/GroupNorm. */
const STATIC_STRUCTURE_OPS = [...CONTROL_FLOW, ...SEQUENCE_AND_OPTIONAL_OPS, ...CONTRIB_FORM_OPS];

export const legalizeTflite = definePass({
  name: 'legalize-tflite',
  summary: 'Lower canonical ONNX-style ops (NCHW) to the tflite dialect (NHWC) with no stray transposes',
  description:
    'Runs fold-shapes, fold-constants and fuse-bn (or the optimize preset with optimize=true), folds Constant nodes, rewrites GlobalPool/BatchNorm/GELU/HardSwish spellings, checks every node ' +
    '(all that cannot map are reported at once, with locations, before anything changes), turns layout-sensitive ops into NHWC ' +
    'builtins between transposes (weights transposed offline), declares image inputs/outputs NHWC with io-layout=nhwc, sinks and ' +
    'cancels transposes, lowers the rest op by op and folds RELU/RELU6 into the op before them. Quantized models (QDQ, quant<> values, QOperator) become ' +
    'int8 TFLite: int8 activations and per-channel weights, int32 biases, QUANTIZE/DEQUANTIZE at float edges (io-type=int8, or int16 for 16x8 models, for integer ones).',
  options: {
    ioLayout: option.enum(['nchw', 'nhwc'], { default: 'nchw', help: 'layout of image-like graph inputs and outputs' }),
    groupedConv: option.enum(['split', 'native'], { default: 'split', help: 'grouped convolutions: one CONV_2D per group, or one grouped CONV_2D' }),
    ioType: option.enum(['float', 'int8', 'int16'], {
      default: 'float',
      help: 'quantized models: float32 graph inputs/outputs (QUANTIZE/DEQUANTIZE at the edges), or integer ones where the model quantizes an input first / dequantizes an output last: int8 for 8-bit models, int16 for 16x8 ones (an edge of the other type is refused)',
    }),
    unsupportedInt8: option.enum(['error', 'float'], { default: 'error', help: 'quantized ops with no int8 TFLite lowering (or asymmetric weights): report them, or run them in float between DEQUANTIZE and QUANTIZE' }),
    fullInteger: option.boolean({ default: false, help: 'refuse, before anything is written, a model in which any op would compute float32 (QUANTIZE of an input / DEQUANTIZE into an output aside), naming each; quantize-static{full-integer=true} makes such models' }),
    channelShuffle: option.enum(['gather', 'transpose'], {
      default: 'gather',
      help: "channel shuffles (Reshape → Transpose → Reshape, ShuffleNet's): one GATHER along the channel axis (no transpose inside), or kept as RESHAPE → TRANSPOSE → RESHAPE (5–11% faster in TFLite 2.9, whose GATHER copies element by element)",
    }),
    asymmetricWeights: option.enum(['int8', 'float'], {
      default: 'int8',
      help: 'weight-only models with asymmetric weights (uint8 with zero points): re-centre them to symmetric int8 per output channel (each weight moves by at most max|w_c|/254, about one step of the original grid), or keep them float32 (exact)',
    }),
    optimize: option.boolean({ default: false, help: 'run the optimize preset first (every fusion, canonicalize, cse); by default only fold-shapes, fold-constants and fuse-bn run' }),
    defaultedInputs: option.enum(['constant', 'input'], {
      default: 'constant',
      help: "graph inputs with a default value (ONNX IR ≤ 3 lists every initializer as an input: torch's keep_initializers_as_inputs=True): freeze them into constants (TFLite has no defaulted inputs; a note says how many), or keep them as inputs the caller must feed",
    }),
  },
  statistics: ['defaulted-inputs-frozen', 'nodes-lowered', 'activations-fused', 'transposes-inside', 'transposes-at-boundary', 'transposes-estimated', 'int8-ops', 'float-ops-in-int8-model', 'requantizations', 'int8-weights', 'int8-weights-recentred', 'hybrid-ops', 'float16-weights'],
  async run(model, context) {
    const registry = withTfliteDialect(context.registry);
    // Model-local functions (torch's export_modules_as_functions) have no TFLite lowering: their bodies replace the calls.
    inlineModelFunctions(model, (message) => context.debug(message));
    if (context.options.defaultedInputs === 'constant') reportFrozenInputs(freezeDefaultedInputs(model.graph), context);
    // The ops the model starts with (QOperator expansion below adds Q/DQ nodes: then every check walks for itself).
    const ops = opsIn(model.graph);
    // Quantized (QDQ) models: Q/DQ pairs become quant<> types (before fold-constants would turn small int8 weights into floats), then int8 TFLite tensors.
    // QLinearConv/QGemm/… → the QDQ form (it also wraps integer data movement after a QuantizeLinear).
    const qoperators = [...ops].some(isQOperator) || ops.has('onnx.QuantizeLinear') ? expandQOperators(model.graph) : 0;
    const quantized = qoperators > 0 || hasQuantizedActivations(model);
    const dequantizes = qoperators > 0 || ops.has('onnx.DequantizeLinear');
    // Weight-only models with uint8/zero-point weights: symmetric int8 reals per channel, which the lowering stores as int8.
    const recentred = !quantized && dequantizes && context.options.asymmetricWeights === 'int8' ? recentreAsymmetricWeights(model.graph).weights : 0;
    context.statistic('int8-weights-recentred', recentred);
    const weightOnly = recentred > 0 || hasInt8Weights(model, dequantizes);
    if (quantized) {
      // Q → DQ pairs with different parameters (a reinterpretation, e.g. HardSigmoid's /6 in the scale) → two matched pairs.
      rescaleMismatchedQdq(model.graph);
      // One constant of integers dequantized with different parameters (compact-qdq's merged scalars): a copy each, so fold-qdq types them all.
      unshareDequantizedIntegers(model.graph);
      await runNested(foldQdq as Pass<OptionSpecs>, model, context, { forward: new Set() });
    }
    // Cheap by default (shape arithmetic folded, BatchNorm into convolutions); the optimize preset when asked.
    // One inference round serves fold-shapes and the lowering: folding replaces values by constants of the same
    // type and fuse-bn only rewrites weights, so the types stay valid (the optimize preset and int8 rewrites re-infer).
    const singleInference = !context.options.optimize && !quantized;
    let known: ((value: Value) => Tensor | undefined) | undefined;
    if (singleInference) {
      constantNodesAsInitializers(model);
      const inferred = inferShapes(model, { registry, mode: 'refresh' });
      // Not through control flow: a Loop body's values are inferred once per unrolled round, the last one kept.
      if (!CONTROL_FLOW.some((op) => ops.has(op))) known = inferred.knownConstant;
      // Channel shuffles (Reshape → Transpose → Reshape) → one Gather along the channel axis, before fold-shapes
      // would fold the shape arithmetic that fed only their Reshapes (prepareCanonicalForTflite does it otherwise).
      if (context.options.channelShuffle === 'gather') axisShufflesAsGather(model.graph);
    }
    // fold-shapes only adds to fold-constants where Shape/Size read static dims (its constant folding is shape arithmetic);
    // fuse-bn only where a BatchNormalization is (a pattern pass has a fixed cost, a third of a small CNN's lowering).
    const preparation = context.options.optimize
      ? [optimize]
      : [...(stillHasOp(model.graph, ops, SHAPE_READERS) ? [foldShapes] : []), foldConstantsPass, ...(stillHasOp(model.graph, ops, BATCH_NORMS) ? [fuseBatchNormPass] : [])];
    for (const pass of preparation) {
      // fold-shapes right after that inference: its shape arithmetic takes the values inference computed (the
      // channel-shuffle rewrite in between leaves the values it keeps as they were), not the kernels run again.
      if (known && pass === foldShapes) foldShapeArithmetic(model, { known, debug: (message) => context.debug(message) });
      else await runNested(pass as Pass<OptionSpecs>, model, context, { forward: new Set() });
    }
    if (!singleInference) keepingQuantTypes(model.graph.definedValues(), () => inferShapes(model, { registry, mode: 'refresh' }));
    // Ifs that the fixed inputs decide (Silero's sample rate, then the shape tests in its branches): taken branches inlined, level by level.
    let ifsInlined = 0;
    if (ops.has('onnx.If')) {
      ifsInlined = await inlineIfsOfKnownConditions(model, {
        inferTypes: () => keepingQuantTypes(model.graph.definedValues(), () => inferShapes(model, { registry, mode: 'refresh' })),
        foldConstants: () => runNested(foldConstantsPass as Pass<OptionSpecs>, model, context, { forward: new Set() }).then(() => undefined),
        debug: (message) => context.debug(message),
      });
    }
    // An output declared with a rank its producer does not compute (an empty shape for an unknown one) takes the computed type.
    for (const entry of retypeContradictedOutputs(model, registry, { ifsInlined: ifsInlined > 0 })) context.report({ severity: 'warning', source: '@modelpass/tflite', reason: describeRetyped(entry) });
    // If/Loop/Scan, sequences and optionals known now: unrolled/inlined/folded, then their copies folded like the rest.
    // Not looked for (three walks) where the census has none: no step since adds them but an inlined If's branch or the
    // optimize preset, after which the census is taken again.
    const census = ifsInlined > 0 || context.options.optimize ? opsIn(model.graph) : ops;
    const resolvedStructure = STATIC_STRUCTURE_OPS.some((op) => census.has(op)) ? resolveStaticStructure(model) : 0;
    if (resolvedStructure > 0) {
      await runNested(foldConstantsPass as Pass<OptionSpecs>, model, context, { forward: new Set() });
      keepingQuantTypes(model.graph.definedValues(), () => inferShapes(model, { registry, mode: 'refresh' }));
    }
    if (quantized) {
      const prepared = prepareQuantizedForTflite(model, { ioType: context.options.ioType as 'float' | 'int8' | 'int16', unsupportedInt8: context.options.unsupportedInt8 as 'error' | 'float', fullInteger: context.options.fullInteger });
      context.statistic('int8-ops', prepared.int8Nodes);
      context.statistic('float-ops-in-int8-model', prepared.floatNodes);
      const ioType = context.options.ioType as 'float' | 'int8' | 'int16';
      if (ioType !== 'float') for (const warning of floatEdgesLeft(model.graph, ioType, { inputs: prepared.int8Inputs, outputs: prepared.int8Outputs })) context.report(warning);
    } else if (context.options.fullInteger) refuseFloatNodes(model.graph, { runsInt8: () => false }, false);
    float64AsFloat32WithNote(model.graph, context); // TFLite 2.9 has no float64 kernels: float64 values are computed in float32
    const float16 = float16AsFloat32WithNote(model.graph, context).values > 0; // float16 models: computed in float32, weights stored float16 after lowering
    // Channel shuffles matched after the one inference round and static structure that resolved to nothing need no second walk
    // (folding, BatchNorm fusion and the float rewrites since change no type a shuffle is matched on, and add no If/Loop/sequence).
    const channelShuffle = context.options.channelShuffle as 'gather' | 'transpose';
    const done = { axisShuffles: singleInference && channelShuffle === 'gather' && resolvedStructure === 0, staticStructure: resolvedStructure === 0 };
    // The canonical rewrites and the lowering read weights from the model's file (attention heads rearranged, matrices
    // transposed): as one batch of reads, the file opened and checked once rather than around every read.
    const { hybrid, result } = batchSourceReads(() => {
      prepareCanonicalForTflite(model, { channelShuffle, done });
      // quantize-dynamic: DynamicQuantizeLinear → MatMulInteger chains → MatMul by int8 weights (TFLite's hybrid kernels).
      const hybrid = ops.has('onnx.MatMulInteger') ? dynamicRangeAsHybrid(model.graph) : 0;
      if (!singleInference || hybrid > 0) keepingQuantTypes(model.graph.definedValues(), () => inferShapes(model, { registry, mode: 'refresh' }));
      if (BLOCK_QUANTIZED_OPS.some((op) => ops.has(op))) for (const note of blockQuantizedNotes(model.graph)) context.report(note); // how big 4-bit tables get in TFLite
      return { hybrid, result: lowerToTflite(model, registry, { ioLayout: context.options.ioLayout as 'nchw' | 'nhwc', groupedConv: context.options.groupedConv as 'split' | 'native' }) };
    });
    if (quantized) {
      const finished = finishInt8(model.graph);
      context.statistic('requantizations', finished.requantizations);
      context.statistic('int8-weights', finished.floatOpWeightsInt8);
    }
    if (hybrid > 0) context.statistic('hybrid-ops', hybridFullyConnected(model.graph));
    if (float16 && !quantized) context.statistic('float16-weights', float16WeightsBehindDequantize(model.graph));
    if (!quantized && weightOnly) {
      // Weight-only models: the float ops keep their int8 weights behind a DEQUANTIZE (bit-exact).
      context.statistic('int8-weights', int8WeightsOfFloatOps(model.graph));
    }
    // Constants those rewrites left unread (lowerToTflite removed every unread one it left: with none of them run, there is nothing to remove).
    if (quantized || hybrid > 0 || float16 || weightOnly) {
      for (const constant of [...model.graph.constants]) if (!constant.hasUses && !constant.isGraphInput && !constant.isGraphOutput) model.graph.removeConstant(constant);
    }
    context.statistic('nodes-lowered', result.lowered);
    context.statistic('activations-fused', result.fusedActivations);
    context.statistic('transposes-inside', result.transposes.inner);
    context.statistic('transposes-at-boundary', result.transposes.boundary);
    context.statistic('transposes-estimated', result.estimate.inner);
    model.opsetImports.set('tflite', model.opsetImports.get('tflite') ?? 1);
    if (addDefaultSignature(model)) context.debug(`signature '${DEFAULT_SIGNATURE_KEY}' recorded: the main graph's ${model.graph.inputs.length} input(s) and ${model.graph.outputs.length} output(s)`);
    return context.preserveNone();
  },
});
