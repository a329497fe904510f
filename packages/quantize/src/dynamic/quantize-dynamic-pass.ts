/**
 * `quantize-dynamic`: int8 weights offline, activations quantized at run time (uint8, per tensor,
 * by DynamicQuantizeLinear) — ONNX Runtime's `quantize_dynamic`. Needs no calibration data.
 *
 * - `format=integer` (default): MatMulInteger / ConvInteger + Cast + scale Mul (+ bias Add), the
 *   chain ORT fuses into MatMulIntegerToFloat / DynamicQuantizeMatMul;
 * - `format=dqlinear`: the float ops read DynamicQuantizeLinear→DequantizeLinear activations and
 *   DequantizeLinear weights (QDQ).
 */
import { formatType, ModelpassError, type DiagnosticInit, type Model, type Node, type OpRegistry, type Type, type Value } from '@modelpass/ir';
import { definePass, option } from '@modelpass/pass-manager';
import { findDynamicLayers, type DynamicLayer } from './dynamic-layers.js';
import { quantizeDynamicWeight, type DynamicWeight } from './dynamic-weights.js';
import { rewriteAsInteger, sharedActivationQuantizer } from './integer-form.js';
import { SharedByWeight, sharedWeightConstants } from '../shared-weights.js';
import { dequantizedActivation, rewriteAsQdq } from './qdq-form.js';
import { constantNodesHint } from '../weights-in-constant-nodes.js';
import { forwardConstantIdentities } from '@modelpass/transforms';
import { inferShapes } from '@modelpass/ops';
import { alreadyQuantizedClause } from '../already-quantized.js';
import { hostOf } from '../static/nested-pass.js';
import { upgradeForPerAxisWeights, upgradeOldOpset } from '../static/opset-upgrade.js';
import { findGatherTables, quantizeGatherTables, GATHER_TABLE_MIN_ELEMENTS } from '../gather-tables.js';

const PASS = 'quantize-dynamic';
/** The opset from which DequantizeLinear takes a per-axis (1-D) scale. */
const PER_AXIS_DEQUANTIZE_OPSET = 13;
const OPS = ['MatMul', 'Gemm', 'Conv'] as const;
/**
 * MatMul and Gemm only by default: ORT has no fused kernel for ConvInteger's chain (ConvInteger →
 * Cast → Mul), and the quantization bench measured conv nets 6–8× slower than fp32 with it
 * (fashion-cnn 8.3×, fashion-resnet 6.0×; batch 64, one thread). ORT's own quantize_dynamic does
 * include Conv by default; Conv here is an opt-in (`ops=[MatMul,Gemm,Conv]`) with a warning.
 */
const DEFAULT_OPS: readonly (typeof OPS)[number][] = ['MatMul', 'Gemm'];

function removeIfUnused(model: Model, weight: Value): void {
  if (!weight.hasUses && weight.isConstant && !weight.isGraphOutput) model.graph.removeConstant(weight);
}

export const quantizeDynamic = definePass({
  name: PASS,
  summary: 'Dynamic quantization: int8 weights offline, uint8 activations quantized at run time (MatMulInteger/ConvInteger or QDQ)',
  description:
    "ONNX Runtime's quantize_dynamic: MatMul and Gemm (as MatMulInteger + Add); Conv (ConvInteger) only with ops=[...,Conv]; embedding tables (Gather) as int8 Gather + DequantizeLinear (gather=false: float). No calibration data. The integer form is what ORT fuses into MatMulIntegerToFloat/DynamicQuantizeMatMul.",
  options: {
    weights: option.enum(['int8', 'uint8'], { default: 'int8', help: 'int8: symmetric weights (zero point 0); uint8: asymmetric' }),
    perChannel: option.boolean({ default: true, help: 'one scale per output channel (otherwise per tensor)' }),
    format: option.enum(['integer', 'dqlinear'], { default: 'integer', help: 'integer: MatMulInteger/ConvInteger; dqlinear: DynamicQuantizeLinear + DequantizeLinear around the float op' }),
    ops: option.list(option.enum([...OPS], {}), { default: [...DEFAULT_OPS], help: 'op types to quantize (Conv only on request: ConvInteger is slower than float Conv in ONNX Runtime)' }),
    skip: option.list(option.string({}), { default: [], help: 'node names to leave float' }),
    gather: option.boolean({ default: true, help: `embedding tables (Gather of a constant float32 table of ≥ ${GATHER_TABLE_MIN_ELEMENTS} values) stored int8 per tensor: int8 Gather → DequantizeLinear` }),
  },
  statistics: ['layers-quantized', 'layers-skipped', 'activations-quantized', 'weight-bytes-before', 'weight-bytes-after', 'weights-shared', 'gather-tables-quantized'],
  run(model, context) {
    const { weights, perChannel, format, ops, skip, gather } = context.options;
    const forwarded = forwardConstantIdentities(model);
    const found = findDynamicLayers(model, ops);
    if (!ops.includes('Conv')) {
      for (const node of model.graph.nodesOf('onnx.Conv')) context.debug(`${node.name}: left float (Conv is quantized only with ops=[...,Conv]: ORT's ConvInteger runs slower than float Conv)`);
    } else if (found.layers.some((layer) => layer.kind === 'conv')) {
      context.report({
        severity: 'warning',
        source: '@modelpass/quantize',
        reason: `pass '${PASS}' quantizes Conv as ConvInteger, which ONNX Runtime runs 6–8× slower than float Conv (no fused kernel); quantize-static gives QLinearConv`,
      });
    }
    for (const { node, reason } of found.skipped) {
      context.statistic('layers-skipped');
      context.debug(`${node.name}: left float (${reason})`);
    }
    const gatherTables = gather ? findGatherTables(model) : [];
    const known = new Set([...found.layers, ...found.skipped, ...gatherTables].map((entry) => entry.node.name));
    const unknown = skip.find((name) => !known.has(name));
    if (unknown !== undefined) {
      throw new ModelpassError({
        reason: `option 'skip' of pass '${PASS}' names '${unknown}', which is not a ${ops.join('/')}${gather ? '/Gather' : ''} node of the model`,
        expected: `node names of ${ops.join('/')}${gather ? '/Gather' : ''} nodes`,
        actual: `'${unknown}'`,
        source: '@modelpass/quantize',
      });
    }
    const layers = found.layers.filter((layer) => !skip.includes(layer.node.name));
    context.statistic('layers-skipped', found.layers.length - layers.length);
    const tables = gatherTables.filter((table) => !skip.includes(table.node.name));
    if (layers.length === 0 && tables.length === 0) {
      const already = alreadyQuantizedClause(model);
      context.report({ severity: 'warning', source: '@modelpass/quantize', reason: `pass '${PASS}' found no ${ops.join('/')} layer with a constant float32 weight to quantize${already}`, ...(already ? {} : constantNodesHint(model)) });
      return forwarded > 0 ? context.preserveNone() : context.preserveAll();
    }
    if (layers.length > 0) upgradeOldOpset(model, hostOf(context), 11, 'DynamicQuantizeLinear'); // paddle2onnx writes opset 9
    else upgradeOldOpset(model, hostOf(context), 10, 'DequantizeLinear');
    // The QDQ form's per-channel weights are a per-axis DequantizeLinear, which ONNX has from opset 13 (opsets 9–10 were
    // raised to 13 above): an opset-11/12 model is raised too where every node allows it, else its weights go per tensor.
    const blocked = format === 'dqlinear' && perChannel && (model.opset('onnx') ?? 0) < PER_AXIS_DEQUANTIZE_OPSET ? upgradeForPerAxisWeights(model, hostOf(context)).why : undefined;
    const perAxis = format === 'integer' || (model.opset('onnx') ?? 0) >= PER_AXIS_DEQUANTIZE_OPSET;
    if (perChannel && !perAxis) {
      context.report({ severity: 'warning', source: '@modelpass/quantize', reason: `per-channel weights need onnx opset ${PER_AXIS_DEQUANTIZE_OPSET} in format=dqlinear (per-axis DequantizeLinear); the model imports opset ${model.opset('onnx') ?? '?'}${blocked ? ` and was not raised to ${PER_AXIS_DEQUANTIZE_OPSET} (${blocked})` : ''}, so weights are quantized per tensor`, hint: 'format=integer keeps them per channel at this opset (MatMulInteger takes a zero point per column)' });
    }
    const activation = sharedActivationQuantizer();
    const dequantized = dequantizedActivation();
    const inference = { done: false };
    const activations = new Set<Value>();
    // A weight read by several layers (tied or Siamese layers) is quantized and stored once.
    const quantizedWeights = new SharedByWeight<DynamicWeight>();
    const constants = sharedWeightConstants();
    // Embedding tables first: a tied LM head in the QDQ form with the same grid (int8, per tensor) reads their constants.
    quantizeGatherTables(tables, constants, context);
    for (const layer of layers) {
      // ORT's ConvInteger takes one weight zero point: asymmetric (uint8) Conv weights go per tensor there.
      const channelwise = perChannel && perAxis && !(format === 'integer' && layer.kind === 'conv' && weights === 'uint8');
      if (channelwise !== perChannel && perAxis) context.debug(`${layer.node.name}: per-tensor weights (ORT's ConvInteger takes a single uint8 weight zero point)`);
      const layout = layer.kind === 'conv' ? 'conv' : layer.layout;
      const made = quantizedWeights.get(layer.weight, `${layout}:${channelwise}`, () => quantizeDynamicWeight(layer, weights, channelwise));
      const { value: weight } = made;
      // A tied LM head whose grid is the table's (QDQ form, int8, per tensor, [N, K]) reads the table's int8 constants.
      const readsTable = format === 'dqlinear' && weights === 'int8' && !channelwise && layout === 'n-major' && tables.some((table) => table.table === layer.weight);
      const reused = made.reused || readsTable;
      activations.add(layer.node.input(0));
      if (format === 'integer') rewriteAsInteger(layer, weight, activation, constants, computedWhereStale(layer.node, model, context, inference));
      else rewriteAsQdq(layer, weight, dequantized(layer, activation), constants);
      context.statistic('layers-quantized');
      if (reused) context.statistic('weights-shared');
      else {
        context.statistic('weight-bytes-before', layer.tensor.byteLength);
        context.statistic('weight-bytes-after', weight.values.byteLength + weight.scale.byteLength + weight.zeroPoint.byteLength);
      }
      context.debug(`${layer.node.name}: ${describe(layer)} → ${format} (${weights}, ${weight.perChannel ? 'per channel' : 'per tensor'})${reused ? `, reading the int8 '${layer.weight.name}' an earlier layer made (shared weight, stored once)` : ''}`);
      removeIfUnused(model, layer.weight);
      // A Conv's bias is re-laid as [M, 1, …] for the Add after ConvInteger: the 1-D original is then unread.
      if (layer.bias) removeIfUnused(model, layer.bias);
    }
    for (const table of tables) removeIfUnused(model, table.table);
    context.statistic('activations-quantized', activations.size);
    return context.preserve(['topological-order']);
  },
});

function describe(layer: DynamicLayer): string {
  return layer.kind === 'conv' ? `Conv [${layer.tensor.shape.join('×')}]` : `${layer.node.op} [${layer.k}×${layer.n}]`;
}

/**
 * What `node` computes for its output, where its declared output type contradicts that (another rank, or a static
 * dim that differs): the integer form's new values take it, so they agree with what they compute. Otherwise
 * undefined (the declaration stays). Input verification tolerates such a stale declaration (ONNX Runtime runs the
 * model); copied onto MatMulInteger and Cast it made verify-each fail the pass on a model `simplify` converts.
 */
function computedWhereStale(node: Node, model: Model, context: { registry: OpRegistry; report: (d: DiagnosticInit) => void }, inference: { done: boolean }): Type | undefined {
  const declared = node.output(0).type;
  if (declared.kind !== 'tensor' || declared.shape === null) return undefined;
  let computed = context.registry.inferNode(node, model)?.[0];
  if ((computed?.kind !== 'tensor' || computed.shape === null) && !inference.done) {
    // The layer reads a value whose type the file left unknown (a Flatten's output): infer the graph's types once.
    inference.done = true;
    try {
      inferShapes(model, { registry: context.registry });
    } catch {
      return undefined;
    }
    computed = context.registry.inferNode(node, model)?.[0];
  }
  if (computed?.kind !== 'tensor' || computed.shape === null) return undefined;
  const contradicts = declared.shape.length !== computed.shape.length || declared.shape.some((dim, i) => typeof dim === 'number' && typeof computed.shape![i] === 'number' && dim !== computed.shape![i]);
  if (!contradicts) return undefined;
  context.report({
    severity: 'warning',
    source: '@modelpass/quantize',
    reason: `pass '${PASS}': '${node.output(0).name}' is declared ${formatType(declared)} but ${node.op} '${node.name}' gives ${formatType(computed)}; the quantized layer's values take ${formatType(computed)}`,
    location: { node: node.name },
  });
  return computed;
}
