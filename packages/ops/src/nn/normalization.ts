/**
 * Normalizations: BatchNormalization (inference and training_mode), InstanceNormalization,
 * LayerNormalization, GroupNormalization, LRN, and Dropout (identity at inference).
 * Statistics are computed in float64 and results rounded once to the output dtype.
 */
import { Tensor, tensorType } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { readNumbers } from '../util/elements.js';
import { inputTensorType, sameAsInput } from '../util/inference.js';
import { inputTensor, opError, optionalInputTensor } from '../util/kernel-io.js';
import { broadcastIndexMap, normalizeAxis, sizeOf } from '../util/shape.js';
import { tensorFromNumbers } from './kernel-helpers.js';
import { verifyAxisAttribute } from '../verify/attribute-range-checks.js';
import { verifyChannelParameters, verifyInstanceNormRank, verifyLayerNormParameters, verifyLrnSize } from '../verify/operand-shape-checks.js';

export const batchNormalizationOp = defineCanonicalOp({
  op: 'onnx.BatchNormalization',
  summary: 'y = scale * (x - mean) / sqrt(var + epsilon) + B, with batch statistics in training_mode',
  inputs: [{ name: 'X' }, { name: 'scale' }, { name: 'B' }, { name: 'input_mean' }, { name: 'input_var' }],
  outputs: [{ name: 'Y' }, { name: 'running_mean', optional: true }, { name: 'running_var', optional: true }],
  attributes: {
    epsilon: { kind: 'float', default: 1e-5 },
    momentum: { kind: 'float', default: 0.9 },
    training_mode: { kind: 'int', default: 0, oneOf: [0, 1] },
    spatial: { kind: 'int', default: 1 },
    is_test: { kind: 'int', default: 0 },
    consumed_inputs: { kind: 'ints' },
  },
  verify: verifyChannelParameters([1, 2, 3, 4]),
  inferTypes(context) {
    const x = inputTensorType(context, 0);
    const stat = inputTensorType(context, 3);
    return [x, stat, inputTensorType(context, 4)].slice(0, context.node.outputs.length);
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => readNumbers(inputTensor(inputs, i, node)));
    const epsilon = node.attr('epsilon', 'float', 1e-5);
    const channels = x.rank > 1 ? x.shape[1]! : 1;
    const outer = x.shape[0] ?? 1;
    const inner = sizeOf(x.shape.slice(2));
    const data = readNumbers(x);
    const training = node.attr('training_mode', 'int', 0) === 1 && node.outputs.length > 1;
    let useMean: ArrayLike<number> = mean!;
    let useVar: ArrayLike<number> = variance!;
    if (training) {
      const batchMean = new Float64Array(channels);
      const batchVar = new Float64Array(channels);
      const count = outer * inner;
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let n = 0; n < outer; n++) for (let i = 0; i < inner; i++) sum += data[(n * channels + c) * inner + i]!;
        batchMean[c] = sum / count;
        let sq = 0;
        for (let n = 0; n < outer; n++) for (let i = 0; i < inner; i++) sq += (data[(n * channels + c) * inner + i]! - batchMean[c]!) ** 2;
        batchVar[c] = sq / count;
      }
      useMean = batchMean;
      useVar = batchVar;
    }
    const out = new Float64Array(x.size);
    for (let n = 0; n < outer; n++) {
      for (let c = 0; c < channels; c++) {
        const factor = scale![c]! / Math.sqrt(useVar[c]! + epsilon);
        for (let i = 0; i < inner; i++) {
          const at = (n * channels + c) * inner + i;
          out[at] = (data[at]! - useMean[c]!) * factor + bias![c]!;
        }
      }
    }
    const y = tensorFromNumbers(x.dtype, x.shape, out);
    if (!training) return [y, ...node.outputs.slice(1).map(() => null)];
    const momentum = node.attr('momentum', 'float', 0.9);
    const statDType = inputTensor(inputs, 3, node).dtype;
    const running = (input: ArrayLike<number>, current: ArrayLike<number>) =>
      tensorFromNumbers(statDType, [channels], Array.from({ length: channels }, (_, c) => input[c]! * momentum + current[c]! * (1 - momentum)));
    return [y, running(mean!, useMean), running(variance!, useVar)];
  },
});

export const instanceNormalizationOp = defineCanonicalOp({
  op: 'onnx.InstanceNormalization',
  summary: 'Normalizes each (n, c) plane: scale * (x - mean) / sqrt(var + epsilon) + B',
  inputs: [{ name: 'input' }, { name: 'scale' }, { name: 'B' }],
  outputs: [{ name: 'output' }],
  attributes: { epsilon: { kind: 'float', default: 1e-5 } },
  verify: (context) => {
    verifyInstanceNormRank(context);
    verifyChannelParameters([1, 2])(context);
  },
  inferTypes: sameAsInput(0),
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const scale = readNumbers(inputTensor(inputs, 1, node));
    const bias = readNumbers(inputTensor(inputs, 2, node));
    const epsilon = node.attr('epsilon', 'float', 1e-5);
    const channels = x.shape[1]!;
    const inner = sizeOf(x.shape.slice(2));
    const data = readNumbers(x);
    const out = new Float64Array(x.size);
    for (let plane = 0; plane < x.shape[0]! * channels; plane++) {
      const c = plane % channels;
      const base = plane * inner;
      normalizeRun(data, out, base, inner, epsilon, (i) => scale[c]!, (i) => bias[c]!);
    }
    return [tensorFromNumbers(x.dtype, x.shape, out)];
  },
});

/** Normalizes `count` elements from `base`; returns [mean, inverse std dev]. */
function normalizeRun(
  data: ArrayLike<number>,
  out: Float64Array,
  base: number,
  count: number,
  epsilon: number,
  scaleAt: (i: number) => number,
  biasAt: (i: number) => number,
): [number, number] {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += data[base + i]!;
  const mean = sum / count;
  let sq = 0;
  for (let i = 0; i < count; i++) sq += (data[base + i]! - mean) ** 2;
  const inv = 1 / Math.sqrt(sq / count + epsilon);
  for (let i = 0; i < count; i++) out[base + i] = (data[base + i]! - mean) * inv * scaleAt(i) + biasAt(i);
  return [mean, inv];
}

export const layerNormalizationOp = defineCanonicalOp({
  op: 'onnx.LayerNormalization',
  summary: 'Normalizes over the axes from `axis` to the last; optional Mean and InvStdDev outputs',
  inputs: [{ name: 'X' }, { name: 'Scale' }, { name: 'B', optional: true }],
  outputs: [{ name: 'Y' }, { name: 'Mean', optional: true }, { name: 'InvStdDev', optional: true }],
  attributes: { axis: { kind: 'int', default: -1 }, epsilon: { kind: 'float', default: 1e-5 }, stash_type: { kind: 'int', default: 1 } },
  verify: (context) => {
    verifyAxisAttribute(() => -1)(context);
    verifyLayerNormParameters(context);
  },
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    if (!type) return [undefined, undefined, undefined].slice(0, context.node.outputs.length);
    const stashDType = context.node.attr('stash_type', 'int', 1) === 1 ? 'float32' : type.dtype;
    let statShape = null as (typeof type.shape) | null;
    if (type.shape) {
      const rank = type.shape.length;
      const raw = context.node.attr('axis', 'int', -1);
      const axis = raw < 0 ? raw + rank : raw;
      statShape = type.shape.map((d, i) => (i < axis ? d : 1));
    }
    return [type, tensorType(stashDType, statShape), tensorType(stashDType, statShape)].slice(0, context.node.outputs.length);
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const axis = normalizeAxis(node.attr('axis', 'int', -1), x.rank, node);
    const epsilon = node.attr('epsilon', 'float', 1e-5);
    const scaleT = inputTensor(inputs, 1, node);
    const biasT = optionalInputTensor(inputs, 2, node);
    const normalizedShape = x.shape.slice(axis);
    const count = sizeOf(normalizedShape);
    const rows = sizeOf(x.shape.slice(0, axis));
    const scale = readNumbers(scaleT);
    const scaleMap = broadcastIndexMap(scaleT.shape, normalizedShape);
    const bias = biasT ? readNumbers(biasT) : undefined;
    const biasMap = biasT ? broadcastIndexMap(biasT.shape, normalizedShape) : undefined;
    const data = readNumbers(x);
    const out = new Float64Array(x.size);
    const means = new Float64Array(rows);
    const invs = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      [means[r], invs[r]] = normalizeRun(data, out, r * count, count, epsilon, (i) => scale[scaleMap[i]!]!, (i) => (bias ? bias[biasMap![i]!]! : 0));
    }
    const statShape = x.shape.map((d, i) => (i < axis ? d : 1));
    const stashDType = node.attr('stash_type', 'int', 1) === 1 ? 'float32' : x.dtype;
    return [tensorFromNumbers(x.dtype, x.shape, out), tensorFromNumbers(stashDType, statShape, means), tensorFromNumbers(stashDType, statShape, invs)].slice(
      0,
      node.outputs.length,
    );
  },
});

export const groupNormalizationOp = defineCanonicalOp({
  op: 'onnx.GroupNormalization',
  summary: 'Normalizes channel groups; scale/bias per group (opset 18) or per channel (opset 21)',
  inputs: [{ name: 'X' }, { name: 'scale' }, { name: 'bias' }],
  outputs: [{ name: 'Y' }],
  attributes: { epsilon: { kind: 'float', default: 1e-5 }, num_groups: { kind: 'int', required: true }, stash_type: { kind: 'int', default: 1 } },
  inferTypes: sameAsInput(0),
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const scale = readNumbers(inputTensor(inputs, 1, node));
    const bias = readNumbers(inputTensor(inputs, 2, node));
    const groups = node.attr('num_groups', 'int');
    const channels = x.shape[1]!;
    if (channels % groups !== 0) throw opError(node, `${channels} channels do not divide into ${groups} groups`);
    const perChannel = scale.length === channels;
    const channelsPerGroup = channels / groups;
    const inner = sizeOf(x.shape.slice(2));
    const count = channelsPerGroup * inner;
    const data = readNumbers(x);
    const out = new Float64Array(x.size);
    for (let run = 0; run < x.shape[0]! * groups; run++) {
      const g = run % groups;
      const index = (i: number) => (perChannel ? g * channelsPerGroup + Math.floor(i / inner) : g);
      normalizeRun(data, out, run * count, count, node.attr('epsilon', 'float', 1e-5), (i) => scale[index(i)]!, (i) => bias[index(i)]!);
    }
    return [tensorFromNumbers(x.dtype, x.shape, out)];
  },
});

export const lrnOp = defineCanonicalOp({
  op: 'onnx.LRN',
  summary: 'Local response normalization across channels',
  inputs: [{ name: 'X' }],
  outputs: [{ name: 'Y' }],
  attributes: {
    alpha: { kind: 'float', default: 0.0001 },
    beta: { kind: 'float', default: 0.75 },
    bias: { kind: 'float', default: 1 },
    size: { kind: 'int', required: true },
  },
  verify: verifyLrnSize,
  inferTypes: sameAsInput(0),
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const alpha = node.attr('alpha', 'float', 0.0001);
    const beta = node.attr('beta', 'float', 0.75);
    const bias = node.attr('bias', 'float', 1);
    const size = node.attr('size', 'int');
    const channels = x.shape[1]!;
    const inner = sizeOf(x.shape.slice(2));
    const data = readNumbers(x);
    const out = new Float64Array(x.size);
    const before = Math.floor((size - 1) / 2);
    const after = Math.ceil((size - 1) / 2);
    for (let n = 0; n < x.shape[0]!; n++) {
      for (let c = 0; c < channels; c++) {
        for (let i = 0; i < inner; i++) {
          let sum = 0;
          for (let k = Math.max(0, c - before); k <= Math.min(channels - 1, c + after); k++) sum += data[(n * channels + k) * inner + i]! ** 2;
          const at = (n * channels + c) * inner + i;
          out[at] = data[at]! / (bias + (alpha / size) * sum) ** beta;
        }
      }
    }
    return [tensorFromNumbers(x.dtype, x.shape, out)];
  },
});

export const dropoutOp = defineCanonicalOp({
  op: 'onnx.Dropout',
  summary: 'Identity at inference (mask all true); training-mode dropout is random and not evaluated',
  inputs: [{ name: 'data' }, { name: 'ratio', optional: true }, { name: 'training_mode', optional: true }],
  outputs: [{ name: 'output' }, { name: 'mask', optional: true }],
  attributes: { ratio: { kind: 'float', default: 0.5 }, seed: { kind: 'int' }, is_test: { kind: 'int', default: 0 }, consumed_inputs: { kind: 'ints' } },
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    const maskDType = context.opset !== undefined && context.opset < 10 ? type?.dtype : 'bool';
    return [type, type && maskDType ? tensorType(maskDType, type.shape) : undefined].slice(0, context.node.outputs.length);
  },
  kernel(inputs, { node, opset }) {
    const x = inputTensor(inputs, 0, node);
    const training = optionalInputTensor(inputs, 2, node);
    const ratioT = optionalInputTensor(inputs, 1, node);
    const ratio = ratioT ? readNumbers(ratioT)[0]! : node.attr('ratio', 'float', 0.5);
    if (training && readNumbers(training)[0] && ratio !== 0) {
      throw opError(node, 'training-mode Dropout draws random masks; the reference interpreter does not evaluate it', {
        hint: 'run with training_mode false (inference) or ratio 0',
      });
    }
    if (node.outputs.length < 2 || node.outputs[1] === null) return [x];
    const maskDType = opset < 10 ? x.dtype : 'bool';
    const mask = maskDType === 'bool' ? Tensor.fromBytes('bool', x.shape, new Uint8Array(x.size).fill(1)) : tensorFromNumbers(maskDType, x.shape, new Array<number>(x.size).fill(1));
    return [x, mask];
  },
});

export const normalizationOps = [batchNormalizationOp, instanceNormalizationOp, layerNormalizationOp, groupNormalizationOp, lrnOp, dropoutOp];
