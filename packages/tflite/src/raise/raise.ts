import { ModelpassError, type DiagnosticInit, type Model, type OpRegistry } from '@modelpass/ir';
import { sinkTransposes, type SinkTransposesResult } from '@modelpass/transforms';
import { declareChannelsFirst } from '../layout/io-layout.js';
import { forgetChannelsLast } from '../layout/io-layout-metadata.js';
import { countTransposes, type TransposeCount } from '../layout/transpose-count.js';
import { withTfliteDialect } from '../legalize/legalize.js';
import { regionModel, renameShadowedValues } from '../legalize/rules/region-graphs.js';
import { dequantizeUnspellableConstants, materializeQuantTypes, opsetForQuantTypes, unspellableQuantValues } from './quant-types.js';
import type { RaiseContext } from './raise-rule.js';
import { adoptInferredOutputTypes } from './declared-types.js';
import { defaultRaiseRules } from './rules/index.js';
import { dequantizedConstant, foldConstantDequantize } from './rules/shape.js';
import { float16DequantizeSource, float16WeightsBehindCast, type Float16Weights, type Float16WeightsMode } from './float16-weights.js';

export interface RaiseOptions {
  /** `qdq` (default): quantized tensors become ONNX QuantizeLinear/DequantizeLinear (materialize-qdq); `types`: they keep IR quant<> types. */
  readonly quantized?: 'qdq' | 'types';
  /** `nhwc` (default): inputs and outputs keep the TFLite model's layout; `nchw`: rank-4 inputs/outputs are declared NCHW, the ONNX convention. */
  readonly ioLayout?: 'nhwc' | 'nchw';
  /** The ONNX opset to write (default 13). */
  readonly opset?: number;
  /**
   * `float32` (default): float16 weights behind DEQUANTIZE become float32 constants; `float16`: they stay float16
   * initializers read through Cast (float16-weights.ts).
   */
  readonly float16Weights?: Float16WeightsMode;
}

export interface RaiseResult {
  readonly raised: number;
  /** QuantizeLinear/DequantizeLinear written for the quantized tensors (0 for a float model). */
  readonly quantizeInserted: number;
  readonly dequantizeInserted: number;
  /** Quantized constants ONNX cannot spell (int64 biases, int4 weights) given as their float32 reals. */
  readonly constantsDequantized: number;
  /** The ONNX opset written (21 when 16-bit quantized tensors need it). */
  readonly opset: number;
  readonly foldedDequantize: number;
  /** float16 weights folded, and those stored float16 again (`float16Weights: 'float16'`). */
  readonly float16Weights: Float16Weights;
  readonly transposes: TransposeCount;
  readonly sinking: SinkTransposesResult;
}

/** Every tflite node that cannot be raised, with its location and why (custom ops included). */
export function unraisableNodes(model: Model, context: RaiseContext, rules = defaultRaiseRules()): DiagnosticInit[] {
  const problems: DiagnosticInit[] = [];
  for (const node of model.graph.nodes()) {
    if (!node.op.startsWith('tflite.')) continue;
    if (dequantizedConstant(node)) continue;
    const rule = rules.get(node.op);
    const reason = rule ? rule.check(node, context) : `${node.op} has no ONNX lowering yet`;
    if (reason) problems.push({ reason, location: node.location, source: '@modelpass/tflite', code: 'tflite/unraisable' });
    // The regions of a WHILE/IF (rules/control-flow.ts) are raised as models of their own.
    else for (const region of node.subgraphs) problems.push(...unraisableNodes(regionModel(region, model), { ...context, model: regionModel(region, model) }, rules));
  }
  return problems;
}

/**
 * tflite dialect (NHWC) → canonical ONNX-semantics ops: folds constant DEQUANTIZE (float16 weights),
 * checks every node (all problems reported at once, nothing changed), raises each op (layout-sensitive
 * ones between transposes, weights transposed offline), then sinks and cancels the transposes.
 */
export function raiseFromTflite(model: Model, registry: OpRegistry, options: RaiseOptions = {}): RaiseResult {
  const context: RaiseContext = { model, registry: withTfliteDialect(registry), opset: opsetForQuantTypes(model, options.opset ?? 13) };
  const rules = defaultRaiseRules();
  const problems = [...unraisableNodes(model, context, rules), ...unspellableQuantValues(model)];
  if (problems.length > 0) {
    throw new ModelpassError([
      {
        reason: `${problems.length} TFLite node(s) cannot be converted to ONNX; nothing was converted`,
        source: '@modelpass/tflite',
        code: 'tflite/unraisable',
      },
      ...problems,
    ]);
  }
  for (const node of model.graph.nodeList()) for (const region of node.subgraphs) raiseFromTflite(regionModel(region, model), registry, { opset: context.opset, quantized: 'types' });
  adoptInferredOutputTypes(model, context.registry);
  const constantsDequantized = dequantizeUnspellableConstants(model.graph);
  let foldedDequantize = 0;
  let foldedFloat16 = 0;
  let float16Bytes = 0;
  for (const node of model.graph.nodeList()) {
    if (!node.graph) continue;
    const half = float16DequantizeSource(node);
    if (!foldConstantDequantize(node)) continue;
    foldedDequantize++;
    if (half) {
      foldedFloat16++;
      float16Bytes += half.size * 2;
    }
  }
  let raised = 0;
  for (const node of model.graph.nodeList()) {
    if (!node.graph || !node.op.startsWith('tflite.')) continue;
    rules.get(node.op)!.raise(node, context);
    raised++;
  }
  // ONNX names are unique across nested graphs: region values raised first may share a name given here since.
  for (const node of model.graph.nodes()) for (const region of node.subgraphs) renameShadowedValues(region);
  if (options.ioLayout === 'nchw') forgetChannelsLast(model, declareChannelsFirst(model));
  const sinking = sinkTransposes(model);
  for (const constant of [...model.graph.constants]) if (!constant.hasUses && !constant.isGraphInput) model.graph.removeConstant(constant);
  const keptFloat16 = options.float16Weights === 'float16' && foldedFloat16 > 0 ? float16WeightsBehindCast(model.graph) : { kept: 0, keptBytes: 0 };
  model.opsetImports.delete('tflite');
  model.opsetImports.set('onnx', context.opset);
  const lowered = options.quantized === 'types' ? { quantize: 0, dequantize: 0 } : materializeQuantTypes(model, context.registry);
  return {
    raised,
    foldedDequantize,
    float16Weights: { folded: foldedFloat16, float16Bytes, ...keptFloat16 },
    quantizeInserted: lowered.quantize,
    dequantizeInserted: lowered.dequantize,
    constantsDequantized,
    opset: context.opset,
    transposes: countTransposes(model.graph),
    sinking,
  };
}
