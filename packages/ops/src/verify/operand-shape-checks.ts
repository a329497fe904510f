/**
 * Verify hooks for operands and attributes ONNX Runtime refuses at load or at run time, which the conversions
 * otherwise carried into a .onnx or .tflite with exit 0 (QA s16): BatchNormalization/InstanceNormalization
 * parameters whose length is not the channel count, a PRelu slope that does not broadcast to X, Mod of floats
 * with fmod=0, a Resize with neither scales nor sizes (or a scale/size of 0 or less), an LRN size below 1, and constant GatherElements/ScatterElements/ScatterND
 * indices outside the data they address.
 */
import type { Dim, Node } from '@modelpass/ir';
import { readNumbers } from '../util/elements.js';
import { shapeOfType, staticDim } from '../util/inference.js';
import { constantIntsOf, inputShapeOf, intAttribute, reportAt, type OpVerifier } from './verify-context.js';

function formatDims(shape: readonly Dim[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}

function inputName(node: Node, index: number): string {
  return node.inputs[index]?.name ?? `input ${index}`;
}

/**
 * BatchNormalization (scale, B, mean, var) and InstanceNormalization (scale, B): each parameter holds one
 * value per channel (dim 1 of X). BatchNormalization before opset 9 with spatial=0 takes per-element
 * parameters and is not checked.
 */
export function verifyChannelParameters(parameters: readonly number[]): OpVerifier {
  return (context) => {
    const { node } = context;
    if (intAttribute(node, 'spatial') === 0) return;
    const shape = inputShapeOf(node, 0);
    const channels = shape && shape.length >= 2 ? staticDim(shape[1]) : undefined;
    if (channels === undefined) {
      // X's channel count not known yet (its producer's output untyped before inference): the parameters must still
      // be rank 1 and of one length, or the node is refused here rather than by a lowering that reads them.
      let first: { index: number; length: number } | undefined;
      for (const index of parameters) {
        const parameter = inputShapeOf(node, index);
        if (!parameter) continue;
        if (parameter.length !== 1) {
          reportAt(context, 'channel-parameter', `'${inputName(node, index)}' ${formatDims(parameter)} is not one value per channel of '${inputName(node, 0)}'`, {
            expected: 'a rank-1 tensor of one value per channel (dim 1 of the input)',
            actual: formatDims(parameter),
          });
          continue;
        }
        const length = staticDim(parameter[0]);
        if (length === undefined) continue;
        if (!first) first = { index, length };
        else if (length !== first.length)
          reportAt(context, 'channel-parameter', `'${inputName(node, index)}' [${length}] and '${inputName(node, first.index)}' [${first.length}] differ in length: each holds one value per channel of '${inputName(node, 0)}'`, {
            expected: `${first.length} values, as '${inputName(node, first.index)}'`,
            actual: formatDims(parameter),
          });
      }
      return;
    }
    for (const index of parameters) {
      const parameter = inputShapeOf(node, index);
      if (!parameter) continue;
      const length = parameter.length === 1 ? staticDim(parameter[0]) : undefined;
      if (parameter.length === 1 && (length === undefined || length === channels)) continue;
      reportAt(context, 'channel-parameter', `'${inputName(node, index)}' ${formatDims(parameter)} is not one value per channel of '${inputName(node, 0)}' ${formatDims(shape!)}`, {
        expected: `a rank-1 tensor of ${channels} values (dim 1 of the input)`,
        actual: formatDims(parameter),
      });
    }
  };
}

/**
 * PRelu (opset 7+): the slope broadcasts to X one way (numpy rules, aligned at the last dim; X's shape is the
 * output's). PRelu-6 and earlier took a slope of C values per channel (libonnx-testdata's test_PReLU_*_multiparam).
 */
export const verifyPreluSlope: OpVerifier = (context) => {
  const { node, opset } = context;
  if (opset !== undefined && opset < 7) return;
  const x = inputShapeOf(node, 0);
  const slope = inputShapeOf(node, 1);
  if (!x || !slope) return;
  const fits =
    slope.length <= x.length &&
    slope.every((d, i) => {
      const s = staticDim(d);
      const t = staticDim(x[x.length - slope.length + i]);
      return s === undefined || t === undefined || s === 1 || s === t;
    });
  if (fits) return;
  reportAt(context, 'prelu-slope', `slope '${inputName(node, 1)}' ${formatDims(slope)} does not broadcast to '${inputName(node, 0)}' ${formatDims(x)}`, {
    expected: 'a slope whose dims, aligned at the last one, are 1 or equal to the input\'s (one value per channel of an NCHW input is [C,1,1])',
    actual: formatDims(slope),
  });
};

/** Mod: fmod=1 for floating-point operands (ONNX: "If the input type is floating point, then fmod attribute must be set to 1"). */
export const verifyModFloat: OpVerifier = (context) => {
  const { node } = context;
  const type = node.inputs[0]?.type;
  const dtype = type && 'dtype' in type ? type.dtype : undefined;
  if (!dtype || !/^(float|bfloat)/.test(dtype) || (intAttribute(node, 'fmod') ?? 0) === 1) return;
  reportAt(context, 'mod-fmod', `Mod of ${dtype} operands has fmod=${intAttribute(node, 'fmod') ?? 0}`, {
    expected: 'fmod=1 for floating-point operands (C fmod; fmod=0 is for integers)',
    actual: `fmod=${intAttribute(node, 'fmod') ?? 0}`,
  });
};

/** Resize (opset 11+): exactly one of scales (non-empty) and sizes; constant scales and sizes above 0. */
export const verifyResizeTargets: OpVerifier = (context) => {
  const { node, opset } = context;
  if (opset !== undefined && opset < 11) return;
  const hasScales = isGiven(node.inputs[2]);
  const hasSizes = isGiven(node.inputs[3]);
  if (hasScales === false && hasSizes === false) {
    reportAt(context, 'resize-target', 'Resize has neither scales nor sizes', {
      expected: 'a non-empty scales input (2) or a sizes input (3)',
      hint: 'give the output size as sizes, or the factor per axis as scales',
    });
    return;
  }
  if (hasScales === true && hasSizes === true) {
    reportAt(context, 'resize-target', 'Resize has both scales and sizes', { expected: 'one of them (the other empty or left out)' });
    return;
  }
  const scales = hasScales ? node.inputs[2]?.constant : undefined;
  if (scales && scales.dtype !== 'string') {
    const values = Array.from(readNumbers(scales));
    const bad = values.find((v) => !(v > 0) || !Number.isFinite(v));
    if (bad !== undefined) reportAt(context, 'resize-target', `scales [${values.join(',')}] hold ${bad}`, { expected: 'finite scales above 0', actual: `[${values.join(',')}]` });
  }
  const sizes = hasSizes ? constantIntsOf(node, 3) : undefined;
  const badSize = sizes?.find((v) => v <= 0);
  if (badSize !== undefined) reportAt(context, 'resize-target', `sizes [${sizes!.join(',')}] hold ${badSize}`, { expected: 'sizes of 1 or more', actual: `[${sizes!.join(',')}]` });
};

/** Whether an optional input holds values: false when absent or known empty, undefined when it cannot tell. */
function isGiven(value: Node['inputs'][number] | undefined): boolean | undefined {
  if (!value) return false;
  if (value.constant) return value.constant.size > 0;
  const shape = shapeOfType(value.type);
  if (shape === undefined) return undefined;
  if (shape.some((d) => d === 0)) return false;
  return shape.every((d) => staticDim(d) !== undefined) ? true : undefined;
}

/** LRN: size (the channels summed over) is 1 or more. */
export const verifyLrnSize: OpVerifier = (context) => {
  const size = intAttribute(context.node, 'size');
  if (size !== undefined && size < 1) reportAt(context, 'lrn-size', `size is ${size}`, { expected: 'a size of 1 or more (the number of channels to sum over)', actual: String(size) });
};

/** GatherElements/ScatterElements: constant indices inside the data's `axis`. */
export const verifyElementIndices: OpVerifier = (context) => {
  const { node } = context;
  const shape = inputShapeOf(node, 0);
  const indices = constantIntsOf(node, 1);
  if (!shape || !indices) return;
  const rawAxis = intAttribute(node, 'axis') ?? 0;
  const axis = rawAxis < 0 ? rawAxis + shape.length : rawAxis;
  if (axis < 0 || axis >= shape.length) {
    reportAt(context, 'axis-range', `axis ${rawAxis} is out of range for '${inputName(node, 0)}' ${formatDims(shape)} of rank ${shape.length}`, {
      expected: `an axis in [${-shape.length}, ${shape.length - 1}]`,
      actual: String(rawAxis),
    });
    return;
  }
  const dim = staticDim(shape[axis]);
  if (dim === undefined) return;
  const outside = indices.find((index) => index < -dim || index >= dim);
  if (outside !== undefined) {
    reportAt(context, 'element-index', `index ${outside} is outside axis ${axis} of '${inputName(node, 0)}' ${formatDims(shape)}`, {
      expected: `indices in [${-dim}, ${dim - 1}]`,
      actual: String(outside),
    });
  }
};

/** ScatterND: constant index tuples no longer than the data's rank, each inside the dims it addresses. */
export const verifyScatterNdIndices: OpVerifier = (context) => {
  const { node } = context;
  const shape = inputShapeOf(node, 0);
  const indexShape = inputShapeOf(node, 1);
  const indices = constantIntsOf(node, 1);
  if (!shape || !indexShape || indexShape.length === 0 || !indices) return;
  const k = staticDim(indexShape[indexShape.length - 1]);
  if (k === undefined) return;
  if (k > shape.length) {
    reportAt(context, 'scatter-nd-index', `index tuples of '${inputName(node, 1)}' ${formatDims(indexShape)} have ${k} entries for data of rank ${shape.length}`, {
      expected: `index tuples of at most ${shape.length} entries`,
      actual: String(k),
    });
    return;
  }
  for (let start = 0; k > 0 && start + k <= indices.length; start += k) {
    for (let axis = 0; axis < k; axis++) {
      const dim = staticDim(shape[axis]);
      const index = indices[start + axis]!;
      if (dim === undefined || (index >= -dim && index < dim)) continue;
      reportAt(context, 'scatter-nd-index', `index ${index} (entry ${axis} of tuple ${start / k}) is outside axis ${axis} of '${inputName(node, 0)}' ${formatDims(shape)}`, {
        expected: `indices in [${-dim}, ${dim - 1}] on axis ${axis}`,
        actual: `[${indices.slice(start, start + k).join(',')}]`,
      });
      return;
    }
  }
};

function elementCount(shape: readonly Dim[]): number | undefined {
  let count = 1;
  for (const d of shape) {
    const dim = staticDim(d);
    if (dim === undefined) return undefined;
    count *= dim;
  }
  return count;
}

/** Expand: the shape operand and the input broadcast (numpy rules, aligned at the last dim). QA s16: [3,4] to [2,5]. */
export const verifyExpandBroadcast: OpVerifier = (context) => {
  const { node } = context;
  const x = inputShapeOf(node, 0);
  const shape = constantIntsOf(node, 1);
  if (!x || !shape) return;
  const rank = Math.max(x.length, shape.length);
  for (let i = 0; i < rank; i++) {
    const a = i < rank - x.length ? 1 : staticDim(x[i - (rank - x.length)]);
    const b = i < rank - shape.length ? 1 : shape[i - (rank - shape.length)]!;
    if (a === undefined || a === 1 || b === 1 || a === b) continue;
    reportAt(context, 'expand-shape', `the shape [${shape.join(',')}] does not broadcast with '${inputName(node, 0)}' ${formatDims(x)} (${a} against ${b})`, {
      expected: 'dims, aligned at the last one, that are equal or 1',
      actual: `[${shape.join(',')}]`,
    });
    return;
  }
};

/** Tile: one repeat per input dim. QA s16: repeats [2] for a rank-2 input. */
export const verifyTileRepeatCount: OpVerifier = (context) => {
  const { node } = context;
  const x = inputShapeOf(node, 0);
  const repeats = constantIntsOf(node, 1);
  if (!x || !repeats || repeats.length === x.length) return;
  reportAt(context, 'tile-repeats', `repeats [${repeats.join(',')}] has ${repeats.length} entries for '${inputName(node, 0)}' ${formatDims(x)} of rank ${x.length}`, {
    expected: `${x.length} repeats (one per dim)`,
    actual: `[${repeats.join(',')}]`,
  });
};

/** Slice (opset 10+): starts, ends and the axes and steps given are constant lists of one length. QA s16: starts [0,0], ends [1]. */
export const verifySliceOperandLengths: OpVerifier = (context) => {
  const { node, opset } = context;
  if (opset !== undefined && opset < 10) return;
  const names = ['starts', 'ends', 'axes', 'steps'];
  const lists = names.map((_, i) => (node.inputs[i + 1] ? constantIntsOf(node, i + 1) : undefined));
  const known = lists.flatMap((list, i) => (list ? [{ name: names[i]!, length: list.length }] : []));
  if (known.length < 2 || known.every((entry) => entry.length === known[0]!.length)) return;
  reportAt(context, 'slice-lengths', `${known.map((entry) => `${entry.name} has ${entry.length}`).join(', ')} entries`, { expected: 'starts, ends, axes and steps of one length' });
};

/** LayerNormalization: Scale and B hold one value per element of the normalized dims (X's dims from `axis`). */
export const verifyLayerNormParameters: OpVerifier = (context) => {
  const { node } = context;
  const x = inputShapeOf(node, 0);
  if (!x) return;
  const rawAxis = intAttribute(node, 'axis') ?? -1;
  const axis = rawAxis < 0 ? rawAxis + x.length : rawAxis;
  if (axis < 0 || axis >= x.length) return;
  const normalized = elementCount(x.slice(axis));
  if (normalized === undefined) return;
  for (const index of [1, 2]) {
    const parameter = inputShapeOf(node, index);
    const count = parameter ? elementCount(parameter) : undefined;
    if (count === undefined || count === normalized) continue;
    reportAt(context, 'layer-norm-parameter', `'${inputName(node, index)}' ${formatDims(parameter!)} holds ${count} values for the ${normalized} elements of '${inputName(node, 0)}' ${formatDims(x)} from axis ${rawAxis}`, {
      expected: `${normalized} values (the dims from axis ${rawAxis})`,
      actual: formatDims(parameter!),
    });
  }
};

/** Conv: a bias of one value per output channel (the weight's dim 0). QA s16: a bias of 5 for 4 output channels. */
export const verifyConvBias: OpVerifier = (context) => {
  const { node } = context;
  const w = inputShapeOf(node, 1);
  const bias = node.inputs[2] ? inputShapeOf(node, 2) : undefined;
  if (!w || !bias || w.length === 0) return;
  const channels = staticDim(w[0]);
  const length = bias.length === 1 ? staticDim(bias[0]) : undefined;
  if (channels === undefined || (bias.length === 1 && (length === undefined || length === channels))) return;
  reportAt(context, 'conv-bias', `bias '${inputName(node, 2)}' ${formatDims(bias)} is not one value per output channel of weight '${inputName(node, 1)}' ${formatDims(w)}`, {
    expected: `a rank-1 bias of ${channels} values`,
    actual: formatDims(bias),
  });
};

/** InstanceNormalization: an input of rank 3 or more (N, C, spatial...). */
export const verifyInstanceNormRank: OpVerifier = (context) => {
  const x = inputShapeOf(context.node, 0);
  if (x && x.length < 3) reportAt(context, 'instance-norm-rank', `'${inputName(context.node, 0)}' ${formatDims(x)} has rank ${x.length}`, { expected: 'an input of rank 3 or more (N, C, spatial dims)' });
};

/**
 * RNN/GRU/LSTM: W [directions, gates·hidden, input], R [directions, gates·hidden, hidden] agree with hidden_size,
 * direction and X's input size. QA s16: a GRU of hidden_size 4 with R [1,12,5] converted with exit 0 (ONNX Runtime
 * refuses it at run).
 */
export function verifyRecurrentWeights(gates: number): OpVerifier {
  return (context) => {
    const { node } = context;
    const w = inputShapeOf(node, 1);
    const r = inputShapeOf(node, 2);
    if (!w || !r || w.length !== 3 || r.length !== 3) return;
    const directionAttribute = node.getAttribute('direction');
    const directions = directionAttribute?.kind === 'string' && directionAttribute.value === 'bidirectional' ? 2 : 1;
    const hidden = intAttribute(node, 'hidden_size') ?? staticDim(r[2]);
    if (hidden === undefined) return;
    const x = inputShapeOf(node, 0);
    const inputSize = x && x.length === 3 ? staticDim(x[2]) : undefined;
    const expectations: [string, readonly Dim[], number, number | undefined][] = [
      ['W', w, 0, directions],
      ['W', w, 1, gates * hidden],
      ['W', w, 2, inputSize],
      ['R', r, 0, directions],
      ['R', r, 1, gates * hidden],
      ['R', r, 2, hidden],
    ];
    for (const [name, shape, axis, expected] of expectations) {
      const dim = staticDim(shape[axis]);
      if (expected === undefined || dim === undefined || dim === expected) continue;
      reportAt(context, 'recurrent-weights', `${name} '${inputName(node, name === 'W' ? 1 : 2)}' ${formatDims(shape)} has ${dim} on axis ${axis}, not ${expected}`, {
        expected: `W [${directions}, ${gates * hidden}, ${inputSize ?? 'input size'}] and R [${directions}, ${gates * hidden}, ${hidden}] (directions, ${gates} gates × hidden_size ${hidden}, input size)`,
        actual: formatDims(shape),
      });
      return;
    }
  };
}
