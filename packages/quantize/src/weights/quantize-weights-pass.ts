/**
 * `quantize-weights`: weight-only quantization of MatMul/Gemm weights, block-wise along K.
 *
 * - `bits=4` (default) → `com.microsoft.MatMulNBits` (ONNX Runtime's fused dequantize+matmul);
 * - `bits=8` → int8/uint8 weight behind ONNX `DequantizeLinear` (blocked at opset ≥ 21,
 *   per-channel below), or MatMulNBits with `format=matmulnbits`.
 * - `method=rtn` rounds each group to nearest; `hqq` refines zero points by half-quadratic
 *   optimisation (no data); `gptq` propagates rounding errors with the inverse Hessian of each
 *   layer's calibration inputs (`dataset=`, `samples=`).
 *
 * Weights are processed one at a time; when they live in files (external data) the quantized ones
 * are spilled to a temporary file, so a model larger than memory stays out of memory.
 */
import { ModelpassError, type Model, type Value } from '@modelpass/ir';
import { definePass, option, type PassContext } from '@modelpass/pass-manager';
import { collectHessians, type LayerHessian } from './activation-hessians.js';
import { BLOCKED_DEQUANTIZE_OPSET, insertDequantizeLinear } from './dequantize-weight.js';
import { DEFAULT_GPTQ, gptqQuantize } from './gptq.js';
import { DEFAULT_HQQ } from './hqq.js';
import { findLinearLayers, type LinearLayer } from './linear-layers.js';
import { layerWaves } from './layer-waves.js';
import { replaceWithMatMulNBits } from './matmul-nbits.js';
import type { GroupQuantizationScheme, QuantizedWeight } from './quantized-weight.js';
import { hqqChooser, quantizeGroupwise, rtnChooser } from './round-to-nearest.js';
import { quantizeTablesInBlocks } from './gather-block-quantized.js';
import { SpillFile, tensorMaker, type TensorMaker } from './spill-file.js';
import { readWeightMatrix } from './weight-tiles.js';
import { constantNodesHint } from '../weights-in-constant-nodes.js';
import { constantBytes, SharedByWeight, sharedWeightConstants, type SharedWeightConstants } from '../shared-weights.js';
import { forwardConstantIdentities } from '@modelpass/transforms';
import { hostOf } from '../static/nested-pass.js';
import { upgradeForPerAxisWeights } from '../static/opset-upgrade.js';
import { alreadyQuantizedClause } from '../already-quantized.js';
import { dimsOption, parseDimsOption } from '../calibration/dims-option.js';
import { findGatherTables, quantizeGatherTables, GATHER_TABLE_MIN_ELEMENTS, type GatherTable } from '../gather-tables.js';

const PASS = 'quantize-weights';

const options = {
  bits: option.integer({ default: 4, min: 4, max: 8, help: 'code width: 4 or 8' }),
  blockSize: option.integer({ default: 32, min: 16, help: 'weights along K sharing one scale (MatMulNBits: a power of two ≥ 16)' }),
  symmetric: option.boolean({ default: false, help: 'zero point fixed at the middle code, scale from the largest magnitude; otherwise min/max with a zero point' }),
  method: option.enum(['rtn', 'gptq', 'hqq'], { default: 'rtn', help: 'rtn: round to nearest; gptq: error feedback with calibration Hessians; hqq: half-quadratic zero-point optimisation' }),
  format: option.enum(['auto', 'matmulnbits', 'dequantize'], { default: 'auto', help: 'auto: MatMulNBits for 4 bits, DequantizeLinear+MatMul for 8 bits' }),
  accuracyLevel: option.integer({ default: 0, min: 0, max: 4, help: "MatMulNBits accuracy_level (0: ORT's default; 4: int8 compute, faster, less exact)" }),
  skip: option.list(option.string({}), { default: [], help: 'node names of layers to leave float' }),
  dataset: option.string({ default: '', files: 'read', help: 'GPTQ calibration data: fashion-mnist:train, idx:IMAGES,LABELS, npy:DIR, or a folder of .npy/.pb inputs as quantize-static takes (empty: seeded random inputs, with a warning)' }),
  samples: option.integer({ default: 128, min: 1, help: 'GPTQ calibration samples' }),
  batchSize: option.integer({ default: 32, min: 1, help: 'GPTQ calibration batch size' }),
  seed: option.integer({ default: 0, help: 'seed of random calibration inputs' }),
  dims: dimsOption,
  sequential: option.boolean({ default: false, help: 'gptq: each layer\'s Hessian from the model with the layers before it already quantized (one ORT pass per wave of layers); false: all from the float model in one pass' }),
  damp: option.number({ default: DEFAULT_GPTQ.damp, min: 0, max: 1, help: 'GPTQ dampening, a fraction of the mean Hessian diagonal' }),
  hqqIterations: option.integer({ default: DEFAULT_HQQ.iterations, min: 1, max: 1000, help: 'HQQ optimisation steps per group' }),
  gather: option.boolean({ default: true, help: `embedding tables (Gather of a constant float32 table of ≥ ${GATHER_TABLE_MIN_ELEMENTS} values): bits=8 int8 per tensor (int8 Gather → DequantizeLinear); bits=4 com.microsoft.GatherBlockQuantized in groups of block-size along each row` }),
} as const;

type Options = typeof options;

function optionError(name: string, reason: string, actual: string, expected: string): ModelpassError {
  return new ModelpassError({ reason: `option '${name}' of pass '${PASS}' ${reason}`, expected, actual, source: '@modelpass/quantize' });
}

function checkOptions(context: PassContext<Options>): 'matmulnbits' | 'dequantize' {
  const { bits, blockSize, format } = context.options;
  if (bits !== 4 && bits !== 8) throw optionError('bits', 'must be 4 or 8', String(bits), '4 or 8');
  const resolved = format === 'auto' ? (bits === 4 ? 'matmulnbits' : 'dequantize') : format;
  if (resolved === 'dequantize' && bits !== 8) throw optionError('format', 'dequantize writes int8/uint8 weights: it needs bits=8', `bits=${bits}`, 'bits=8, or format=matmulnbits');
  checkBlockSize(resolved, blockSize);
  return resolved;
}

function checkBlockSize(format: 'matmulnbits' | 'dequantize', blockSize: number): void {
  if (format === 'matmulnbits' && (blockSize & (blockSize - 1)) !== 0) throw optionError('block-size', 'must be a power of two for MatMulNBits', String(blockSize), '16, 32, 64, 128, ...');
}

/** The opset from which DequantizeLinear takes a per-axis (1-D) scale: the least the `dequantize` format writes. */
const PER_AXIS_DEQUANTIZE_OPSET = 13;

/**
 * The `dequantize` format writes per-channel (opset 13) or blocked (opset 21) DequantizeLinear weights. A model below
 * opset 13 is raised to 13 where every node allows it (with a warning); where one does not, `format=auto` writes
 * MatMulNBits instead (with a note) and an explicit `format=dequantize` is refused, naming the opset and the node.
 */
function formatForOpset(model: Model, context: PassContext<Options>, format: 'matmulnbits' | 'dequantize'): 'matmulnbits' | 'dequantize' {
  const opset = model.opset('onnx') ?? 0;
  if (format !== 'dequantize' || opset >= PER_AXIS_DEQUANTIZE_OPSET) return format;
  const { upgraded, why } = upgradeForPerAxisWeights(model, hostOf(context));
  if (upgraded) return format;
  const notRaised = why ? ` and was not raised to ${PER_AXIS_DEQUANTIZE_OPSET} (${why})` : '';
  if (context.options.format === 'dequantize') {
    throw optionError('format', `dequantize writes per-channel DequantizeLinear weights, which need onnx opset ${PER_AXIS_DEQUANTIZE_OPSET}; the model imports opset ${opset}${notRaised}`, `format=dequantize at opset ${opset}`, `format=matmulnbits (com.microsoft.MatMulNBits, at any onnx opset) or a model at opset ${PER_AXIS_DEQUANTIZE_OPSET} or newer`);
  }
  checkBlockSize('matmulnbits', context.options.blockSize);
  context.report({ severity: 'info', source: '@modelpass/quantize', reason: `opset ${opset} < ${PER_AXIS_DEQUANTIZE_OPSET}: DequantizeLinear takes no per-channel scale there${notRaised}, so the 8-bit weights are written as com.microsoft.MatMulNBits (format=auto; blocks of ${context.options.blockSize} along K)` });
  return 'matmulnbits';
}

function schemeFor(layer: LinearLayer, context: PassContext<Options>, perChannel: boolean): GroupQuantizationScheme {
  const { bits, blockSize, symmetric } = context.options;
  return { bits: bits as 4 | 8, groupSize: perChannel ? layer.k : blockSize, symmetric };
}

function removeIfUnused(model: Model, weight: Value): void {
  if (!weight.hasUses && weight.isConstant && !weight.isGraphOutput) model.graph.removeConstant(weight);
}

export const quantizeWeights = definePass({
  name: PASS,
  summary: 'Weight-only int4/int8 quantization of MatMul/Gemm weights, block-wise along K (MatMulNBits or DequantizeLinear; rtn, gptq or hqq)',
  description:
    'int4 → com.microsoft.MatMulNBits, int8 → DequantizeLinear + MatMul (blocked at opset ≥ 21, per-channel below). GPTQ needs calibration data (dataset=); RTN and HQQ need none. Weights in external data are processed one at a time and spilled to a temporary file.',
  options,
  statistics: ['layers-quantized', 'layers-skipped', 'weights-quantized', 'weight-bytes-before', 'weight-bytes-after', 'weights-shared', 'shared-weights-copied', 'gather-tables-quantized'],
  async run(model, context) {
    const requested = checkOptions(context);
    const { method, skip } = context.options;
    const forwarded = forwardConstantIdentities(model);
    const found = findLinearLayers(model);
    for (const { node, reason } of found.skipped) {
      context.statistic('layers-skipped');
      context.debug(`${node.name}: left float (${reason})`);
    }
    const gatherTables = context.options.gather ? findGatherTables(model) : [];
    const unknown = skip.filter((name) => !found.layers.some((layer) => layer.node.name === name) && !found.skipped.some((s) => s.node.name === name) && !gatherTables.some((t) => t.node.name === name));
    if (unknown.length > 0) throw optionError('skip', `names '${unknown[0]}', which is not a MatMul/Gemm node of the model`, `'${unknown[0]}'`, 'node names of MatMul/Gemm nodes');
    const tables = gatherTables.filter((table) => !skip.includes(table.node.name));
    const layers = found.layers.filter((layer) => {
      if (!skip.includes(layer.node.name)) return true;
      context.statistic('layers-skipped');
      context.debug(`${layer.node.name}: left float (option skip)`);
      return false;
    });
    const format = layers.length > 0 ? formatForOpset(model, context, requested) : requested;
    if (tables.length > 0) quantizeTables(model, tables, context);
    if (layers.length === 0) {
      if (tables.length > 0) return context.preserve(['topological-order']);
      const already = alreadyQuantizedClause(model);
      context.report({ severity: 'warning', source: '@modelpass/quantize', reason: `pass '${PASS}' found no MatMul/Gemm with a constant float32 2-D weight to quantize${already}`, ...(already ? {} : constantNodesHint(model)) });
      return forwarded > 0 ? context.preserveNone() : context.preserveAll();
    }
    const perChannel = format === 'dequantize' && (model.opset('onnx') ?? 0) < BLOCKED_DEQUANTIZE_OPSET;
    if (perChannel) {
      context.report({
        severity: 'info',
        source: '@modelpass/quantize',
        reason: `opset ${model.opset('onnx') ?? '?'} < ${BLOCKED_DEQUANTIZE_OPSET}: DequantizeLinear has no block_size, so int8 weights are quantized per output channel (block-size=${context.options.blockSize} not used)`,
      });
    }
    const sequential = method === 'gptq' && context.options.sequential;
    // Sequential GPTQ: one wave at a time, its Hessians from the model with the earlier waves quantized.
    const waves = sequential ? layerWaves(layers) : [layers];
    if (sequential) context.debug(`gptq sequential: ${layers.length} layers in ${waves.length} waves`);
    const spill = layers.some((layer) => !layer.tensor.isLoaded) ? new SpillFile() : undefined;
    const make = tensorMaker(spill);
    // A weight several layers read (tied or Siamese layers) is quantized once and stored once; with
    // GPTQ, from the sum of its layers' Hessians (the error of every layer that reads it). Sequential
    // GPTQ measures layers of different waves in different runs: readers of one weight in different
    // waves keep their own copies (statistic shared-weights-copied).
    const quantizedWeights = new SharedByWeight<QuantizedWeight>();
    const constants = sharedWeightConstants();
    try {
      for (const wave of waves) {
        const hessians = method === 'gptq' ? await layerHessians(model, wave, context) : undefined;
        for (const layer of wave) {
          context.signal.throwIfAborted();
          const scheme = schemeFor(layer, context, perChannel);
          const readers = layers.filter((other) => other.weight === layer.weight && other.layout === layer.layout);
          const share = !sequential || readers.every((reader) => wave.includes(reader));
          if (!share) {
            context.statistic('shared-weights-copied');
            context.debug(`${layer.node.name}: its weight '${layer.weight.name}' is read by ${readers.length} layers; sequential GPTQ measures them in different waves, so this layer gets its own copy`);
          }
          // Only a weight other layers still read is kept for them: a QuantizedWeight holds one byte per code, so
          // keeping every layer's (as 4928441 did) held ~1 GB for a 1 B-parameter model (int4-1b.mjs: 268 → 1,297 MB).
          const { value: quantized, reused } =
            share && readers.length > 1
              ? quantizedWeights.get(layer.weight, layer.layout, () => quantizeLayer(layer, scheme, context, format, hessians, readers))
              : { value: quantizeLayer(layer, scheme, context, format, hessians, share ? readers : [layer]), reused: false };
          const before = layer.tensor.byteLength;
          const after = emit(model, layer, quantized, format, context, make, share ? constants : undefined);
          context.statistic('layers-quantized');
          if (reused) {
            context.statistic('weights-shared');
            context.debug(`${layer.node.name}: reads the quantized '${layer.weight.name}' an earlier layer made (shared weight, stored once)`);
          } else {
            context.statistic('weights-quantized', layer.k * layer.n);
            context.statistic('weight-bytes-before', before);
            context.statistic('weight-bytes-after', after);
            context.debug(`${layer.node.name}: [${layer.k}×${layer.n}] ${method} ${scheme.bits}-bit groups of ${scheme.groupSize} → ${format} (${before} → ${after} bytes)`);
          }
          removeIfUnused(model, layer.weight);
        }
      }
    } finally {
      spill?.close();
    }
    return context.preserve(['topological-order']);
  },
});

/**
 * Embedding tables: with bits=8 int8 per tensor (Gather → DequantizeLinear; the MatMul grids here are blocked or per
 * channel, so a tied head keeps its own codes); with bits=4 GatherBlockQuantized in groups of block-size along each row,
 * RTN or HQQ (GPTQ has no Hessian for a lookup: RTN).
 */
function quantizeTables(model: Model, tables: readonly GatherTable[], context: PassContext<Options>): void {
  const constants = sharedWeightConstants();
  if (context.options.bits === 8) quantizeGatherTables(tables, constants, context);
  else {
    const { blockSize, symmetric, method, hqqIterations } = context.options;
    const scheme: GroupQuantizationScheme = { bits: 4, groupSize: blockSize, symmetric };
    const chooser = method === 'hqq' ? hqqChooser({ ...DEFAULT_HQQ, iterations: hqqIterations, integerZeroPoints: true }) : rtnChooser;
    // tables in external data are read tile by tile and their codes spilled, as the MatMul weights are
    const spill = tables.some((table) => !table.tensor.isLoaded) ? new SpillFile() : undefined;
    try {
      const reporting = { statistic: context.statistic.bind(context), debug: context.debug.bind(context), warn: (reason: string) => context.report({ severity: 'warning', source: '@modelpass/quantize', reason }) };
      quantizeTablesInBlocks(model, tables, (layer) => quantizeGroupwise(layer, scheme, chooser), tensorMaker(spill), constants, reporting);
    } finally {
      spill?.close();
    }
  }
  for (const table of tables) removeIfUnused(model, table.table);
}

async function layerHessians(model: Model, layers: readonly LinearLayer[], context: PassContext<Options>): Promise<Map<Value, LayerHessian>> {
  const inputs = new Map<Value, number>();
  for (const layer of layers) inputs.set(layer.node.input(0), layer.k);
  const { dataset, samples, batchSize, seed } = context.options;
  return collectHessians(model, inputs, {
    dataset,
    samples,
    batchSize,
    seed,
    dims: parseDimsOption(context.options.dims, PASS),
    pass: PASS,
    warn: (reason) => context.report({ severity: 'warning', source: '@modelpass/quantize', reason }),
  });
}

function quantizeLayer(
  layer: LinearLayer,
  scheme: GroupQuantizationScheme,
  context: PassContext<Options>,
  format: 'matmulnbits' | 'dequantize',
  hessians: Map<Value, LayerHessian> | undefined,
  readers: readonly LinearLayer[],
): QuantizedWeight {
  const { method, damp, hqqIterations } = context.options;
  if (method === 'hqq') return quantizeGroupwise(layer, scheme, hqqChooser({ ...DEFAULT_HQQ, iterations: hqqIterations, integerZeroPoints: format === 'dequantize' }));
  if (method === 'rtn') return quantizeGroupwise(layer, scheme, rtnChooser);
  // Layers that share an input share H; GPTQ changes its diagonal only where it was zero, the same each time.
  // A weight several layers read: H summed over their (distinct) inputs, the error of all of them.
  const inputs = [...new Set(readers.map((reader) => reader.node.input(0)))];
  const hessian = inputs.length === 1 ? hessians!.get(inputs[0]!)!.matrix : summedHessian(inputs.map((input) => hessians!.get(input)!.matrix));
  return gptqQuantize(readWeightMatrix(layer), hessian, layer, scheme, rtnChooser, { ...DEFAULT_GPTQ, damp }, layer.node.name);
}

function summedHessian(matrices: readonly Float64Array[]): Float64Array {
  const sum = new Float64Array(matrices[0]!.length);
  for (const matrix of matrices) for (let i = 0; i < sum.length; i++) sum[i]! += matrix[i]!;
  return sum;
}

/** Rewrites the layer; returns the bytes of the new weight tensors. */
function emit(
  model: Model,
  layer: LinearLayer,
  quantized: QuantizedWeight,
  format: 'matmulnbits' | 'dequantize',
  context: PassContext<Options>,
  make: TensorMaker,
  shared: SharedWeightConstants | undefined,
): number {
  const node =
    format === 'matmulnbits'
      ? replaceWithMatMulNBits(model, layer, quantized, { accuracyLevel: context.options.accuracyLevel, make, ...(shared ? { shared } : {}) })
      : insertDequantizeLinear(layer, quantized, make, shared);
  return constantBytes(format === 'matmulnbits' ? node.inputs.slice(1) : node.inputs);
}
