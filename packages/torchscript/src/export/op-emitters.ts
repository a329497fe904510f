/** Canonical op → TorchScript `torch.*` calls, one emitter per op (a table, not a switch). */
import { isTensorType, type Node, type Value } from '@modelpass/ir';

function isIntegral(value: Value): boolean {
  return isTensorType(value.type) && /^u?int/.test(value.type.dtype);
}
import { pyFloat, pyInts, type EmitContext, type OpEmitter } from './emit-context.js';
import { detectionEmitters } from './detection-emitters.js';
import { recurrentEmitters } from './recurrent-emitters.js';
import { resizeEmitter } from './resize-emitter.js';
import { reductionEmitters } from './reduction-emitters.js';
import { quantizeEmitters } from './quantize-emitters.js';
import { samplingEmitters } from './sampling-emitters.js';

const input = (e: EmitContext, node: Node, index = 0): string => e.name(node.inputs[index] ?? null);

function unary(call: string): OpEmitter {
  return (e, node) => e.assign(node, `${call}(${input(e, node)})`);
}
function binary(call: string, minimumVersion = 3): OpEmitter {
  return (e, node) => {
    e.minimumVersion = Math.max(e.minimumVersion, minimumVersion);
    e.assign(node, `${call}(${input(e, node)}, ${input(e, node, 1)})`);
  };
}

/** ONNX pads [begins…, ends…] as torch's symmetric padding, or null when asymmetric. */
function symmetricPads(node: Node, spatial: number): number[] | null {
  const pads = node.attr('pads', 'ints', new Array<number>(spatial * 2).fill(0));
  const begins = pads.slice(0, spatial);
  const ends = pads.slice(spatial);
  return begins.every((p, i) => p === ends[i]) ? begins : null;
}

/** A padded input for convolution/pooling when the pads are asymmetric (torch.constant_pad_nd). */
function paddedInput(e: EmitContext, node: Node, spatial: number, fill: number, explicit = false): { input: string; padding: number[] } {
  const autoPad = node.attr('auto_pad', 'string', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') e.fail(node, `auto_pad ${autoPad} (pads depend on the input size)`);
  const symmetric = symmetricPads(node, spatial);
  if (symmetric && (!explicit || symmetric.every((pad) => pad === 0))) return { input: input(e, node), padding: symmetric };
  const pads = node.attr('pads', 'ints');
  // constant_pad_nd lists the last dim first: [last_begin, last_end, …].
  const torchPads: number[] = [];
  for (let d = spatial - 1; d >= 0; d--) torchPads.push(pads[d]!, pads[d + spatial]!);
  const padded = `${e.name(node.output(0))}_padded`;
  e.line(`${padded} = torch.constant_pad_nd(${input(e, node)}, ${pyInts(torchPads)}, ${pyFloat(fill)})`);
  return { input: padded, padding: new Array<number>(spatial).fill(0) };
}

function spatialOf(e: EmitContext, node: Node): number {
  const kernel = node.optionalAttr('kernel_shape', 'ints');
  if (kernel) return kernel.length;
  const weightRank = e.rank(node.inputs[1] ?? null);
  if (weightRank !== undefined) return weightRank - 2;
  return e.fail(node, 'the number of spatial dims is unknown (no kernel_shape, weight rank unknown)');
}

const conv: OpEmitter = (e, node) => {
  const spatial = spatialOf(e, node);
  if (spatial < 1 || spatial > 3) e.fail(node, `${spatial} spatial dims`);
  const { input: x, padding } = paddedInput(e, node, spatial, 0);
  const strides = node.attr('strides', 'ints', new Array<number>(spatial).fill(1));
  const dilations = node.attr('dilations', 'ints', new Array<number>(spatial).fill(1));
  const group = node.attr('group', 'int', 1);
  const bias = node.inputs[2] ? input(e, node, 2) : 'None';
  e.assign(node, `torch.conv${spatial}d(${x}, ${input(e, node, 1)}, ${bias}, ${pyInts(strides)}, ${pyInts(padding)}, ${pyInts(dilations)}, ${group})`);
};

/** ConvTranspose → torch.conv_transpose{1,2,3}d, whose padding is symmetric: asymmetric pads or output_shape are refused. */
const convTranspose: OpEmitter = (e, node) => {
  const spatial = spatialOf(e, node);
  if (spatial < 1 || spatial > 3) e.fail(node, `${spatial} spatial dims`);
  if (node.attr('auto_pad', 'string', 'NOTSET') !== 'NOTSET') e.fail(node, `auto_pad ${node.attr('auto_pad', 'string')}`);
  if (node.optionalAttr('output_shape', 'ints')) e.fail(node, 'the output_shape attribute (give pads and output_padding instead)');
  const padding = symmetricPads(node, spatial);
  if (!padding) return e.fail(node, 'asymmetric pads (torch pads both sides alike)');
  const ones = new Array<number>(spatial).fill(1);
  const strides = node.attr('strides', 'ints', ones);
  const dilations = node.attr('dilations', 'ints', ones);
  const outputPadding = node.attr('output_padding', 'ints', new Array<number>(spatial).fill(0));
  const group = node.attr('group', 'int', 1);
  const bias = node.inputs[2] ? input(e, node, 2) : 'None';
  e.assign(node, `torch.conv_transpose${spatial}d(${input(e, node)}, ${input(e, node, 1)}, ${bias}, ${pyInts(strides)}, ${pyInts(padding)}, ${pyInts(outputPadding)}, ${group}, ${pyInts(dilations)})`);
};

/** Einsum → torch.einsum over the same equation (letters, '...', ',' and '->'). */
const einsum: OpEmitter = (e, node) => {
  const equation = node.attr('equation', 'string').replace(/\s+/g, '');
  if (!/^[a-z.,]*(->[a-z.]*)?$/.test(equation)) return e.fail(node, `equation '${equation}' (lower-case letters, '...', ',' and '->' only)`);
  e.assign(node, `torch.einsum("${equation}", [${node.inputs.map((value) => e.name(value)).join(', ')}])`);
};

function pool(kind: 'max' | 'avg'): OpEmitter {
  return (e, node) => {
    const kernel = node.attr('kernel_shape', 'ints');
    const spatial = kernel.length;
    if (spatial < 1 || spatial > 3) e.fail(node, `${spatial} spatial dims`);
    const fill = kind === 'max' ? -Infinity : 0;
    const countIncludePad = node.attr('count_include_pad', 'int', 0) === 1;
    if (kind === 'avg' && !countIncludePad && !symmetricPads(node, spatial)) e.fail(node, 'asymmetric pads with count_include_pad=0');
    const ceilMode = node.attr('ceil_mode', 'int', 0) === 1;
    // torch's pooling refuses a pad over half the kernel: such pads go into the input first (-inf for max, zeros for
    // an average that counts them), which pools the same windows; an average that must not count them cannot.
    const wide = (node.optionalAttr('pads', 'ints') ?? []).some((pad, i) => pad > Math.floor(kernel[i % spatial]! / 2));
    if (wide && kind === 'avg' && !countIncludePad) e.fail(node, 'pads over half the kernel with count_include_pad=0 (torch refuses such pads)');
    if (wide && ceilMode) e.fail(node, 'pads over half the kernel with ceil_mode=1 (torch refuses such pads)');
    const { input: x, padding } = paddedInput(e, node, spatial, fill, wide);
    const strides = node.attr('strides', 'ints', new Array<number>(spatial).fill(1));
    const ceil = ceilMode ? 'True' : 'False';
    if (kind === 'max') {
      if (node.outputs.length > 1 && node.outputs[1]) e.fail(node, 'the Indices output');
      const dilations = node.attr('dilations', 'ints', new Array<number>(spatial).fill(1));
      e.assign(node, `torch.max_pool${spatial}d(${x}, ${pyInts(kernel)}, ${pyInts(strides)}, ${pyInts(padding)}, ${pyInts(dilations)}, ${ceil})`);
    } else {
      const divisor = spatial === 1 ? '' : ', None';
      e.assign(node, `torch.avg_pool${spatial}d(${x}, ${pyInts(kernel)}, ${pyInts(strides)}, ${pyInts(padding)}, ${ceil}, ${countIncludePad ? 'True' : 'False'}${divisor})`);
    }
  };
}

const globalAveragePool: OpEmitter = (e, node) => {
  const rank = e.rank(node.inputs[0] ?? null);
  if (rank !== undefined) {
    e.assign(node, `torch.mean(${input(e, node)}, ${pyInts(Array.from({ length: rank - 2 }, (_, i) => i + 2))}, True)`);
    return;
  }
  // Rank known only when it runs: the spatial dims listed at run time.
  const dims = `${e.name(node.output(0))}_dims`;
  e.line(`${dims} = annotate(List[int], [])`);
  e.line(`for ${dims}_d in range(2, torch.dim(${input(e, node)})):`);
  e.line(`  ${dims}.append(${dims}_d)`);
  e.assign(node, `torch.mean(${input(e, node)}, ${dims}, True)`);
};

const batchNormalization: OpEmitter = (e, node) => {
  if (node.attr('training_mode', 'int', 0) === 1) return e.fail(node, 'training_mode=1 (batch statistics and running-mean outputs)');
  const epsilon = node.attr('epsilon', 'float', 1e-5);
  const [x, scale, bias, mean, variance] = [0, 1, 2, 3, 4].map((i) => input(e, node, i));
  e.assign(node, `torch.batch_norm(${x}, ${scale}, ${bias}, ${mean}, ${variance}, False, 0.10000000000000001, ${pyFloat(epsilon)}, True)`);
};

/** InstanceNormalization (scale and bias [C], input rank ≥ 3): torch.instance_norm with the input's own statistics. */
const instanceNormalization: OpEmitter = (e, node) => {
  const rank = e.rank(node.inputs[0] ?? null);
  if (rank !== undefined && rank < 3) e.fail(node, `an input of rank ${rank} (InstanceNormalization takes N, C and at least one spatial dim)`);
  const [x, scale, bias] = [0, 1, 2].map((i) => input(e, node, i));
  e.assign(node, `torch.instance_norm(${x}, ${scale}, ${bias}, None, None, True, 0.10000000000000001, ${pyFloat(node.attr('epsilon', 'float', 1e-5))}, True)`);
};

/** TopK → torch.topk(x, k, dim, largest, sorted=True): values and int64 indices; K constant or read from its tensor at run time. */
const topK: OpEmitter = (e, node) => {
  const kConstant = node.inputs[1] ? e.constantNumber(node.inputs[1]) : node.optionalAttr('k', 'int');
  if (kConstant === undefined && !node.inputs[1]) return e.fail(node, 'no K (neither the input nor the attribute)');
  const k = kConstant !== undefined ? String(kConstant) : `int(${input(e, node, 1)})`;
  const largest = node.attr('largest', 'int', 1) === 1 ? 'True' : 'False';
  // sorted=0 leaves the order unspecified in ONNX; torch's sorted order is one valid answer.
  const call = `torch.topk(${input(e, node)}, ${k}, ${node.attr('axis', 'int', -1)}, ${largest}, True)`;
  const [values, indices] = [node.outputs[0], node.outputs[1]];
  if (values && indices) e.line(`${e.name(values)}, ${e.name(indices)} = ${call}`);
  else if (values) e.assign(node, `${call}[0]`);
  else if (indices) e.assign(node, `${call}[1]`, 1);
};

/** PRelu: the slope broadcasts as ONNX says ([C, 1, 1] from torch's export), so a where, not torch.prelu (1-D weights at dim 1). */
const prelu: OpEmitter = (e, node) => {
  const x = input(e, node);
  e.assign(node, `torch.where(torch.lt(${x}, 0.), torch.mul(${x}, ${input(e, node, 1)}), ${x})`);
};

/** CumSum along a constant axis; exclusive subtracts the element itself, reverse is not written. */
const cumSum: OpEmitter = (e, node) => {
  const axis = e.constantNumber(node.inputs[1] ?? null);
  if (axis === undefined) return e.fail(node, 'an axis computed at run time');
  if (node.attr('reverse', 'int', 0) === 1) return e.fail(node, 'reverse=1');
  const x = input(e, node);
  const sum = `torch.cumsum(${x}, ${axis})`;
  e.assign(node, node.attr('exclusive', 'int', 0) === 1 ? `torch.sub(${sum}, ${x})` : sum);
};

/** Trilu → torch.triu / torch.tril with the diagonal offset k (a constant input, default 0). */
const trilu: OpEmitter = (e, node) => {
  const k = node.inputs[1] ? e.constantNumber(node.inputs[1]) : 0;
  if (k === undefined) return e.fail(node, 'a diagonal offset k computed at run time');
  e.assign(node, `torch.${node.attr('upper', 'int', 1) === 1 ? 'triu' : 'tril'}(${input(e, node)}, ${k})`);
};

const layerNormalization: OpEmitter = (e, node) => {
  const axis = node.attr('axis', 'int', -1);
  const scaleShape = e.constantOf(node.inputs[1])?.shape;
  const rank = e.rank(node.inputs[0] ?? null);
  if (!scaleShape) e.fail(node, 'the scale is not a constant (its shape gives normalized_shape)');
  if (axis >= 0 && rank === undefined) e.fail(node, 'a positive axis with the input rank unknown');
  const normalizedRank = axis < 0 ? -axis : rank! - axis;
  if (scaleShape!.length !== normalizedRank) e.fail(node, 'a scale that broadcasts over the normalized dims');
  const bias = node.inputs[2] ? input(e, node, 2) : 'None';
  e.assign(node, `torch.layer_norm(${input(e, node)}, ${pyInts(scaleShape!)}, ${input(e, node, 1)}, ${bias}, ${pyFloat(node.attr('epsilon', 'float', 1e-5))}, True)`);
};

const gemm: OpEmitter = (e, node) => {
  const a = node.attr('transA', 'int', 0) ? `torch.t(${input(e, node)})` : input(e, node);
  const b = node.attr('transB', 'int', 0) ? `torch.t(${input(e, node, 1)})` : input(e, node, 1);
  const alpha = node.attr('alpha', 'float', 1);
  const beta = node.attr('beta', 'float', 1);
  if (!node.inputs[2]) {
    e.assign(node, alpha === 1 ? `torch.mm(${a}, ${b})` : `torch.mul(torch.mm(${a}, ${b}), ${pyFloat(alpha)})`);
    return;
  }
  e.assign(node, `torch.addmm(${input(e, node, 2)}, ${a}, ${b}, beta=${pyFloat(beta)}, alpha=${pyFloat(alpha)})`);
};

const flatten: OpEmitter = (e, node) => {
  const axis = node.attr('axis', 'int', 1);
  const rank = e.rank(node.inputs[0] ?? null);
  const positive = axis < 0 ? (rank === undefined ? e.fail(node, 'a negative axis with the rank unknown') : axis + rank) : axis;
  const x = input(e, node);
  if (positive === 0) e.assign(node, `torch.reshape(${x}, [1, -1])`);
  else if (positive === 1) e.assign(node, `torch.flatten(${x}, 1)`);
  else e.assign(node, `torch.flatten(torch.flatten(${x}, 0, ${positive - 1}), 1)`);
};

const reshape: OpEmitter = (e, node) => {
  const shape = e.constantInts(node.inputs[1] ?? null);
  const x = input(e, node);
  if (node.attr('allowzero', 'int', 0) === 1) e.fail(node, 'allowzero=1');
  if (shape) {
    const dims = shape.map((d, i) => (d === 0 ? `torch.size(${x}, ${i})` : String(d)));
    e.assign(node, `torch.reshape(${x}, [${dims.join(', ')}])`);
    return;
  }
  // A computed shape of known length n: ONNX's 0 copies the input dim, as torch.where over the
  // input's shape, and _reshape_from_tensor takes the sizes as a tensor (modelpass reads that back).
  const length = shapeLength(node.inputs[1] ?? null);
  const rank = e.rank(node.inputs[0] ?? null);
  if (length !== undefined && rank !== undefined) {
    const sizes = `${e.name(node.output(0))}_sizes`;
    const given = input(e, node, 1);
    if (length <= rank) {
      e.line(`${sizes} = torch.where(torch.eq(${given}, 0), torch.slice(torch._shape_as_tensor(${x}), 0, 0, ${length}, 1), ${given})`);
    } else {
      // More sizes than input dims (a channel shuffle's [N, g, C/g, H, W]): a 0 can copy only the first rank of them.
      const head = `${sizes}_head`;
      e.line(`${head} = torch.slice(${given}, 0, 0, ${rank}, 1)`);
      e.line(`${sizes} = torch.cat([torch.where(torch.eq(${head}, 0), torch._shape_as_tensor(${x}), ${head}), torch.slice(${given}, 0, ${rank}, ${length}, 1)], 0)`);
    }
    e.assign(node, `torch._reshape_from_tensor(${x}, ${sizes})`);
    return;
  }
  // Otherwise its values become a List[int].
  const list = `${e.name(node.output(0))}_shape`;
  e.line(`${list} : List[int] = (${input(e, node, 1)}).tolist()`);
  e.line(`for ${list}_i in range(len(${list})):`);
  e.line(`  if ${list}[${list}_i] == 0:`);
  e.line(`    ${list}[${list}_i] = torch.size(${x}, ${list}_i)`);
  e.assign(node, `torch.reshape(${x}, ${list})`);
};

/** The length of a 1-D shape value when its type says. */
function shapeLength(value: Value | null): number | undefined {
  if (!value || !isTensorType(value.type) || value.type.shape?.length !== 1) return undefined;
  const length = value.type.shape[0];
  return typeof length === 'number' ? length : undefined;
}

const transpose: OpEmitter = (e, node) => {
  const perm = node.optionalAttr('perm', 'ints');
  if (!perm) {
    const rank = e.rank(node.inputs[0] ?? null);
    if (rank === undefined) e.fail(node, 'no perm and the rank unknown');
    e.assign(node, `torch.permute(${input(e, node)}, ${pyInts(Array.from({ length: rank! }, (_, i) => rank! - 1 - i))})`);
    return;
  }
  e.assign(node, `torch.permute(${input(e, node)}, ${pyInts(perm)})`);
};

const concat: OpEmitter = (e, node) => {
  const parts = node.inputs.map((value) => e.name(value));
  e.assign(node, `torch.cat([${parts.join(', ')}], ${node.attr('axis', 'int')})`);
};

function axesOf(e: EmitContext, node: Node): readonly number[] | undefined {
  return node.optionalAttr('axes', 'ints') ?? e.constantInts(node.inputs[1] ?? null);
}

const unsqueeze: OpEmitter = (e, node) => {
  const axes = axesOf(e, node);
  if (!axes) return e.fail(node, 'computed axes');
  const rank = e.rank(node.inputs[0] ?? null);
  const outRank = rank === undefined ? undefined : rank + axes.length;
  if (axes.some((a) => a < 0) && outRank === undefined) e.fail(node, 'negative axes with the rank unknown');
  let expression = input(e, node);
  for (const axis of [...axes].map((a) => (a < 0 ? a + outRank! : a)).sort((a, b) => a - b)) expression = `torch.unsqueeze(${expression}, ${axis})`;
  e.assign(node, expression);
};

const squeeze: OpEmitter = (e, node) => {
  const axes = axesOf(e, node);
  // Axes computed at run time: torch.squeeze(x) would drop every size-1 dim, not only those.
  if (!axes && node.inputs[1]) return e.fail(node, 'computed axes');
  if (!axes) {
    e.assign(node, `torch.squeeze(${input(e, node)})`);
    return;
  }
  const rank = e.rank(node.inputs[0] ?? null);
  if (axes.some((a) => a < 0) && rank === undefined) e.fail(node, 'negative axes with the rank unknown');
  let expression = input(e, node);
  for (const axis of [...axes].map((a) => (a < 0 ? a + rank! : a)).sort((a, b) => b - a)) expression = `torch.squeeze(${expression}, ${axis})`;
  e.assign(node, expression);
};

const split: OpEmitter = (e, node) => {
  const axis = node.attr('axis', 'int', 0);
  const sizes = node.inputs[1] ? e.constantInts(node.inputs[1]) : node.optionalAttr('split', 'ints');
  // Sizes computed at run time: equal chunks would be wrong.
  if (!sizes && node.inputs[1]) return e.fail(node, 'computed split sizes');
  const outputs = node.outputs.map((value) => e.name(value));
  const call = sizes ? `torch.split_with_sizes(${input(e, node)}, ${pyInts(sizes)}, ${axis})` : `torch.chunk(${input(e, node)}, ${outputs.length}, ${axis})`;
  e.line(`${outputs.join(', ')}, = ${call}`);
};

/** `wrap`: the reduced expression around the reduction's input and result (ReduceL2: sqrt of the sum of squares). */
function reduce(call: 'mean' | 'sum' | 'amax' | 'amin' | 'logsumexp', wrap?: { readonly input: (x: string) => string; readonly output: (y: string) => string }): OpEmitter {
  return (e, node) => {
    const x = wrap ? wrap.input(input(e, node)) : input(e, node);
    const out = (expression: string) => (wrap ? wrap.output(expression) : expression);
    // An axes input of static shape [0] is empty whatever it holds (ONNX: reduce every axis, unless noop_with_empty_axes).
    const axes = axesOf(e, node) ?? (node.inputs[1] && shapeLength(node.inputs[1]) === 0 ? [] : undefined);
    // Axes computed at run time (an input since ReduceSum-13 / opset 18): reducing every axis instead would be wrong.
    if (!axes && node.inputs[1]) return e.fail(node, 'computed axes');
    const keep = node.attr('keepdims', 'int', 1) === 1 ? 'True' : 'False';
    if (!axes || axes.length === 0) {
      if (node.attr('noop_with_empty_axes', 'int', 0) === 1) e.fail(node, 'noop_with_empty_axes');
      const rank = e.rank(node.inputs[0] ?? null);
      if (rank === undefined) e.fail(node, 'reducing all axes of a tensor of unknown rank');
      e.assign(node, out(`torch.${call}(${x}, ${pyInts(Array.from({ length: rank! }, (_, i) => i))}, ${keep})`));
      return;
    }
    e.assign(node, out(`torch.${call}(${x}, ${pyInts(axes)}, ${keep})`));
  };
}

/** ReduceProd as torch.prod one axis at a time (torch.prod takes a single dim), last axis first. */
const reduceProd: OpEmitter = (e, node) => {
  const outputType = node.output(0).type;
  const dtype = isTensorType(outputType) ? outputType.dtype : undefined;
  // torch.prod of an integer tensor gives int64: other integer dtypes would change type.
  if (dtype !== 'float32' && dtype !== 'float64' && dtype !== 'int64') return e.fail(node, `ReduceProd of ${dtype ?? 'an unknown dtype'} (torch.prod promotes integers to int64)`);
  const axes = axesOf(e, node) ?? (node.inputs[1] && shapeLength(node.inputs[1]) === 0 ? [] : undefined);
  if (!axes && node.inputs[1]) return e.fail(node, 'computed axes');
  const rank = e.rank(node.inputs[0] ?? null);
  if (rank === undefined) return e.fail(node, 'ReduceProd of a tensor of unknown rank');
  if ((!axes || axes.length === 0) && node.attr('noop_with_empty_axes', 'int', 0) === 1) return e.fail(node, 'noop_with_empty_axes');
  const chosen = !axes || axes.length === 0 ? Array.from({ length: rank }, (_, i) => i) : axes.map((axis) => (axis < 0 ? axis + rank : axis));
  const keep = node.attr('keepdims', 'int', 1) === 1 ? 'True' : 'False';
  const descending = [...new Set(chosen)].sort((a, b) => b - a);
  e.assign(node, descending.reduce((expression, axis) => `torch.prod(${expression}, ${axis}, ${keep})`, input(e, node)));
};

const clip: OpEmitter = (e, node) => {
  if (e.onnxOpset < 11) {
    // Clip-6: the bounds are the min/max attributes (absent: no bound).
    const low = node.optionalAttr('min', 'float');
    const high = node.optionalAttr('max', 'float');
    if (low === undefined && high === undefined) e.bind(node.output(0), input(e, node));
    else e.assign(node, `torch.clamp(${input(e, node)}, ${low === undefined ? 'None' : pyFloat(low)}, ${high === undefined ? 'None' : pyFloat(high)})`);
    return;
  }
  const bound = (index: number): string => {
    const value = node.inputs[index] ?? null;
    if (!value) return 'None';
    const known = e.constantNumber(value);
    return known === undefined ? e.fail(node, 'computed bounds') : pyFloat(known);
  };
  const [low, high] = [bound(1), bound(2)];
  // No bound at all is the identity (torch.clamp refuses two Nones).
  if (low === 'None' && high === 'None') e.bind(node.output(0), input(e, node));
  else e.assign(node, `torch.clamp(${input(e, node)}, ${low}, ${high})`);
};

const hardSigmoid: OpEmitter = (e, node) => {
  const alpha = node.attr('alpha', 'float', 0.2);
  const beta = node.attr('beta', 'float', 0.5);
  if (Math.abs(alpha - 1 / 6) < 1e-7 && beta === 0.5) e.assign(node, `torch.hardsigmoid(${input(e, node)})`);
  else e.assign(node, `torch.clamp(torch.add(torch.mul(${input(e, node)}, ${pyFloat(alpha)}), ${pyFloat(beta)}), 0., 1.)`);
};

const gather: OpEmitter = (e, node) => {
  const axis = node.attr('axis', 'int', 0);
  const indices = e.constantOf(node.inputs[1]);
  if (indices && indices.rank === 0) {
    e.assign(node, `torch.select(${input(e, node)}, ${axis}, ${indices.toNumbers()[0]})`);
    return;
  }
  if (indices && indices.rank === 1) {
    // ONNX counts negative indices from the end; index_select refuses them ("index out of range"): wrap them.
    const negative = indices.toNumbers().some((i) => i < 0);
    const index = negative ? `torch.remainder(${input(e, node, 1)}, torch.size(${input(e, node)}, ${axis}))` : input(e, node, 1);
    e.assign(node, `torch.index_select(${input(e, node)}, ${axis}, ${index})`);
    return;
  }
  // Computed (or rank ≥ 2 constant) indices into a matrix along axis 0: an embedding lookup (token ids). torch.embedding takes any index
  // shape and gives indices.shape + [D], as Gather does; negative ids count from the end in ONNX, so they are wrapped.
  // Constant indices of rank 2 or more take this way too (a position table indexed by a folded arange, GPT-style).
  if ((axis === 0 || axis === -2) && e.rank(node.inputs[0] ?? null) === 2 && e.rank(node.inputs[1] ?? null) !== undefined) {
    const table = input(e, node);
    e.assign(node, `torch.embedding(${table}, torch.remainder(${input(e, node, 1)}, torch.size(${table}, 0)), -1, False, False)`);
    return;
  }
  // Any other index tensor along any axis: index_select of the flattened indices (wrapped, as ONNX counts negative
  // ones from the end), reshaped to data.shape[:axis] + indices.shape + data.shape[axis + 1:].
  const rank = e.rank(node.inputs[0] ?? null);
  if (rank === undefined || e.rank(node.inputs[1] ?? null) === undefined) return e.fail(node, 'indices into a tensor of unknown rank');
  const at = axis < 0 ? axis + rank : axis;
  const data = input(e, node);
  const flat = `${e.name(node.output(0))}_flat`;
  e.line(`${flat} = torch.remainder(torch.reshape(${input(e, node, 1)}, [-1]), torch.size(${data}, ${at}))`);
  const dims = `${e.name(node.output(0))}_dims`;
  e.line(`${dims} : List[int] = torch.size(${data})[:${at}] + torch.size(${input(e, node, 1)}) + torch.size(${data})[${at + 1}:]`);
  e.assign(node, `torch.reshape(torch.index_select(${data}, ${at}, ${flat}), ${dims})`);
};

/**
 * Softmax/LogSoftmax. Before opset 13 the op flattens the dims from `axis` (default 1) on into one and normalizes
 * over all of them: on the last axis that is torch's softmax; on another it is the softmax of torch.flatten(x, axis)
 * along its last dim, reshaped back (a rank-3 input with the default axis normalizes over dims 1 and 2 together).
 */
const softmax = (call: string): OpEmitter => (e, node) => {
  const x = input(e, node);
  if (e.onnxOpset >= 13) {
    e.assign(node, `torch.${call}(${x}, ${node.attr('axis', 'int', -1)})`);
    return;
  }
  const axis = node.attr('axis', 'int', 1);
  const rank = e.rank(node.inputs[0] ?? null);
  if (rank === undefined) return e.fail(node, `opset ${e.onnxOpset} flattens the dims from axis ${axis} on, and the input rank is unknown`);
  const positive = axis < 0 ? axis + rank : axis;
  if (positive === rank - 1) e.assign(node, `torch.${call}(${x}, ${positive})`);
  else e.assign(node, `torch._reshape_from_tensor(torch.${call}(torch.flatten(${x}, ${positive}), -1), torch._shape_as_tensor(${x}))`);
};

const identity: OpEmitter = (e, node) => e.bind(node.output(0), input(e, node));

/**
 * DepthToSpace: CRD is torch's pixel_shuffle; DCR (the default) splits the channels as [block, block, C'] instead of
 * [C', block, block], written as reshape → permute → reshape over the static C, H and W (any batch).
 */
const depthToSpace: OpEmitter = (e, node) => {
  const block = node.attr('blocksize', 'int');
  const x = input(e, node);
  if (node.attr('mode', 'string', 'DCR') === 'CRD') {
    e.assign(node, `torch.pixel_shuffle(${x}, ${block})`);
    return;
  }
  const value = node.inputs[0] ?? null;
  const shape = value && isTensorType(value.type) ? value.type.shape : undefined;
  const [, channels, height, width] = shape ?? [];
  if (shape?.length !== 4 || typeof channels !== 'number' || typeof height !== 'number' || typeof width !== 'number') {
    return e.fail(node, 'DCR mode with the channels, height and width not static');
  }
  const depth = channels / (block * block);
  e.assign(node, `torch.reshape(torch.permute(torch.reshape(${x}, ${pyInts([-1, block, block, depth, height, width])}), [0, 3, 4, 1, 5, 2]), ${pyInts([-1, depth, height * block, width * block])})`);
};

/** Inference Dropout is the identity; in training mode it draws a random mask, and its mask output is not written. */
const dropout: OpEmitter = (e, node) => {
  const training = node.inputs[2] ?? null;
  const ratio = node.inputs[1] ? e.constantNumber(node.inputs[1]) : 0.5;
  if (training && e.constantNumber(training) !== 0 && ratio !== 0) return e.fail(node, 'training_mode that is not a constant false (a random mask)');
  const mask = node.outputs[1];
  if (mask && (mask.hasUses || mask.isGraphOutput)) return e.fail(node, 'the mask output');
  identity(e, node);
};

/** An opaque `aten.<name>` node from the importer, written back as the `torch.<name>(…)` call it was. */
export const opaqueAten: OpEmitter = (e, node) => {
  const positional: string[] = [];
  const keywords: string[] = [];
  const literal = (name: string): string | undefined => {
    const inputIndex = node.optionalAttr(`${name}_input`, 'int');
    if (inputIndex !== undefined) return e.name(node.inputs[inputIndex] ?? null);
    const attribute = node.getAttribute(name);
    if (!attribute) return undefined;
    switch (attribute.kind) {
      case 'int':
        return String(attribute.value);
      case 'float':
        return pyFloat(attribute.value as number);
      case 'string':
        return JSON.stringify(attribute.value);
      case 'ints':
        return pyInts(attribute.value as number[]);
      case 'floats':
        return `[${(attribute.value as number[]).map(pyFloat).join(', ')}]`;
      default:
        return e.fail(node, `attribute ${name} of kind ${attribute.kind}`);
    }
  };
  const names = new Set<string>();
  for (const [name] of node.attributes) names.add(name.replace(/_input$/, ''));
  const count = Math.max(-1, ...[...names].map((name) => /^arg(\d+)$/.exec(name)).filter((m) => m).map((m) => Number(m![1]))) + 1;
  for (let i = 0; i < count; i++) positional.push(literal(`arg${i}`) ?? 'None');
  for (const name of names) if (!/^arg\d+$/.test(name)) keywords.push(`${name}=${literal(name)}`);
  e.assign(node, `torch.${node.op.slice('aten.'.length)}(${[...positional, ...keywords].join(', ')})`);
};

/** ONNX dtype code → torch ScalarType code (the loader's source takes dtypes as ints). */
const TORCH_DTYPES: Readonly<Record<number, number>> = { 1: 6, 11: 7, 10: 5, 7: 4, 6: 3, 9: 11, 3: 1, 2: 0 };

const cast: OpEmitter = (e, node) => {
  const dtype = TORCH_DTYPES[node.attr('to', 'int')];
  if (dtype === undefined) e.fail(node, `cast to ONNX dtype ${node.attr('to', 'int')}`);
  e.assign(node, `torch.to(${input(e, node)}, ${dtype}, False, False, None)`);
};

/**
 * A negative-step slice along `dim` (torch.slice takes positive steps only): ONNX clamps start to
 * [0, D-1] and end to [-1, D-1] and takes start, start+step, … while above end, which is the run
 * (end, start] ascending, flipped, then every |step|-th element. Needs the size D of `dim`.
 */
function reversedSlice(e: EmitContext, node: Node, expression: string, dim: number, start: number, end: number, step: number): string {
  const value = node.inputs[0] ?? null;
  const size = value && isTensorType(value.type) ? value.type.shape?.[dim] : undefined;
  if (typeof size !== 'number') return e.fail(node, `a negative step along dim ${dim}, whose size is not static`);
  const from = Math.min(Math.max(start < 0 ? start + size : start, 0), size - 1);
  const to = Math.min(Math.max(end < 0 ? end + size : end, -1), size - 1);
  if (from <= to) return `torch.slice(${expression}, ${dim}, 0, 0, 1)`;
  const flipped = `torch.flip(torch.slice(${expression}, ${dim}, ${to + 1}, ${from + 1}, 1), [${dim}])`;
  return step === -1 ? flipped : `torch.slice(${flipped}, ${dim}, 0, ${from - to}, ${-step})`;
}

const slice: OpEmitter = (e, node) => {
  // Slice-1 (before opset 10) holds starts, ends and axes as attributes, with no steps.
  const legacy = e.onnxOpset < 10;
  const starts = legacy ? node.attr('starts', 'ints') : e.constantInts(node.inputs[1] ?? null);
  const ends = legacy ? node.attr('ends', 'ints') : e.constantInts(node.inputs[2] ?? null);
  const rank = e.rank(node.inputs[0] ?? null);
  const count = starts?.length ?? ends?.length ?? e.constantInts(node.inputs[3] ?? null)?.length ?? shapeLength(node.inputs[1] ?? null);
  const givenAxes = legacy ? node.optionalAttr('axes', 'ints') : node.inputs[3] ? e.constantInts(node.inputs[3]) : undefined;
  const axes = givenAxes ?? ((legacy || !node.inputs[3]) && count !== undefined ? Array.from({ length: count }, (_, i) => i) : undefined);
  const steps = !legacy && node.inputs[4] ? e.constantInts(node.inputs[4]) : axes?.map(() => 1);
  if (!axes || !steps) return e.fail(node, 'computed axes or steps');
  if (!starts || !ends) {
    // Bounds computed at run time (torch's chunk over a symbolic size): each one read as a Python int; positive steps only.
    if (steps.some((step) => step < 1)) return e.fail(node, 'computed starts/ends with a negative step');
    const bound = (values: readonly number[] | undefined, index: number, i: number): string => (values ? String(Math.min(values[i]!, Number.MAX_SAFE_INTEGER)) : `int(torch.select(${input(e, node, index)}, 0, ${i}))`);
    let computed = input(e, node);
    axes.forEach((axis, i) => {
      const dim = axis < 0 ? (rank === undefined ? e.fail(node, 'a negative axis with the rank unknown') : axis + rank) : axis;
      computed = `torch.slice(${computed}, ${dim}, ${bound(starts, 1, i)}, ${bound(ends, 2, i)}, ${steps[i]})`;
    });
    e.assign(node, computed);
    return;
  }
  let expression = input(e, node);
  axes.forEach((axis, i) => {
    const dim = axis < 0 ? (rank === undefined ? e.fail(node, 'a negative axis with the rank unknown') : axis + rank) : axis;
    const step = steps[i]!;
    if (step === 0) e.fail(node, 'a zero step');
    if (step < 0) {
      expression = reversedSlice(e, node, expression, dim, starts[i]!, ends[i]!, step);
      return;
    }
    const clampEnd = Math.min(ends[i]!, Number.MAX_SAFE_INTEGER);
    expression = `torch.slice(${expression}, ${dim}, ${starts[i]}, ${clampEnd}, ${step})`;
  });
  e.assign(node, expression);
};

/**
 * Expand (ONNX broadcasts the input and the shape both ways) → `torch.expand`, whose sizes must be the
 * output's: a 1 in the shape keeps the input's dim (`-1` when the shape is constant; the input's
 * size read by `torch.where` over its shape when computed).
 */
const expand: OpEmitter = (e, node) => {
  const x = input(e, node);
  const rank = e.rank(node.inputs[0] ?? null);
  if (rank === undefined) return e.fail(node, 'the input rank is unknown');
  const known = e.constantInts(node.inputs[1] ?? null);
  if (known) {
    const length = Math.max(known.length, rank);
    const sizes = Array.from({ length }, (_, i) => {
      const size = known[i - (length - known.length)] ?? 1;
      return size === 1 && i >= length - rank ? -1 : size;
    });
    e.assign(node, `torch.expand(${x}, ${pyInts(sizes)})`);
    return;
  }
  const length = shapeLength(node.inputs[1] ?? null);
  if (length === undefined || length < rank) return e.fail(node, 'a computed shape of unknown length, or shorter than the input rank');
  const shape = input(e, node, 1);
  const sizes = `${e.name(node.output(0))}_sizes`;
  const trailing = `torch.slice(${shape}, 0, ${length - rank}, ${length}, 1)`;
  const kept = `torch.where(torch.eq(${trailing}, 1), torch._shape_as_tensor(${x}), ${trailing})`;
  e.line(`${sizes} : List[int] = (${length > rank ? `torch.cat([torch.slice(${shape}, 0, 0, ${length - rank}, 1), ${kept}], 0)` : kept}).tolist()`);
  e.assign(node, `torch.expand(${x}, ${sizes})`);
};

/** Range(start, limit, delta) of scalars → `torch.arange`, each bound a literal when constant, else read as a Python number. */
const range: OpEmitter = (e, node) => {
  const value = node.inputs[0] ?? null;
  const dtype = value && isTensorType(value.type) ? value.type.dtype : undefined;
  const integral = dtype === 'int64' || dtype === 'int32';
  if (!integral && dtype !== 'float32' && dtype !== 'float64') return e.fail(node, `a Range of ${dtype ?? 'unknown dtype'}`);
  const bound = (index: number): string => {
    const known = e.constantNumber(node.inputs[index] ?? null);
    if (known !== undefined) return integral ? String(known) : pyFloat(known);
    return `${integral ? 'int' : 'float'}(${input(e, node, index)})`;
  };
  const torchDtype = { int64: 4, int32: 3, float32: 6, float64: 7 }[dtype];
  e.assign(node, `torch.arange(${bound(0)}, ${bound(1)}, ${bound(2)}, dtype=${torchDtype})`);
};

/**
 * ScatterND → `torch.index_put` with one index tensor per addressed leading dim (the last axis of
 * ONNX's indices, whose length must be static); updates already have torch's value shape
 * `indices.shape[:-1] + data.shape[k:]`. Reduction add → accumulate; the others are refused.
 */
const scatterNd: OpEmitter = (e, node) => {
  const reduction = node.attr('reduction', 'string', 'none');
  if (reduction !== 'none' && reduction !== 'add') return e.fail(node, `reduction ${reduction} (torch's index_put adds or replaces)`);
  const indices = node.inputs[1] ?? null;
  const shape = indices && isTensorType(indices.type) ? indices.type.shape : undefined;
  const depth = shape?.[shape.length - 1];
  if (typeof depth !== 'number') return e.fail(node, 'indices whose last dim (the index depth) is not static');
  const parts = Array.from({ length: depth }, (_, j) => `torch.select(${input(e, node, 1)}, -1, ${j})`);
  e.assign(node, `torch.index_put(${input(e, node)}, [${parts.join(', ')}], ${input(e, node, 2)}, ${reduction === 'add' ? 'True' : 'False'})`);
};

/**
 * ScatterElements (reduction none or add) → torch.scatter / torch.scatter_add along `axis`; negative indices (ONNX
 * counts them from the end, torch refuses them) wrapped by torch.where unless they are constants ≥ 0.
 */
const scatterElements: OpEmitter = (e, node) => {
  const reduction = node.attr('reduction', 'string', 'none');
  if (reduction !== 'none' && reduction !== 'add') return e.fail(node, `reduction ${reduction} (torch.scatter replaces, scatter_add adds)`);
  const rank = e.rank(node.inputs[0] ?? null);
  const rawAxis = node.attr('axis', 'int', 0);
  if (rawAxis < 0 && rank === undefined) return e.fail(node, 'a negative axis with the data rank unknown');
  const axis = rawAxis < 0 ? rawAxis + rank! : rawAxis;
  const data = input(e, node);
  const known = e.constantInts(node.inputs[1] ?? null);
  const raw = input(e, node, 1);
  const indices = known && known.every((i) => i >= 0) ? raw : `torch.where(torch.lt(${raw}, 0), torch.add(${raw}, torch.size(${data}, ${axis})), ${raw})`;
  e.assign(node, `torch.${reduction === 'add' ? 'scatter_add' : 'scatter'}(${data}, ${axis}, ${indices}, ${input(e, node, 2)})`);
};

/** ONNX Pad modes → torch.pad's (wrap has none). */
const TORCH_PAD_MODES: Readonly<Record<string, string>> = { constant: 'constant', reflect: 'reflect', edge: 'replicate' };

/**
 * Pad → `torch.constant_pad_nd` (constant mode, any axes, negative pads crop) or `torch.pad(…, "reflect" |
 * "replicate")`, which pads only the last 1–3 dims of a tensor with one or two more. torch lists the
 * last dim first: `[last_begin, last_end, …]`.
 */
/**
 * A constant-mode Pad whose pads are computed at run time (swin's window pad from a symbolic H/W):
 * each of the 2·rank entries read as a Python int. Other modes need to know which dims are padded.
 */
function computedPad(e: EmitContext, node: Node, torchMode: string, rank: number): void {
  if (torchMode !== 'constant') return e.fail(node, `computed pads in ${torchMode} mode (constant mode only)`);
  if (node.inputs[3]) return e.fail(node, 'computed pads with axes');
  const valueInput = node.inputs[2] ?? null;
  const value = valueInput ? e.constantNumber(valueInput) : 0;
  if (value === undefined) return e.fail(node, 'a computed constant_value');
  const entry = (i: number) => `int(torch.select(${input(e, node, 1)}, 0, ${i}))`;
  const torchPads: string[] = [];
  for (let axis = rank - 1; axis >= 0; axis--) torchPads.push(entry(axis), entry(axis + rank));
  e.assign(node, `torch.constant_pad_nd(${input(e, node)}, [${torchPads.join(', ')}], ${pyFloat(value)})`);
}

const pad: OpEmitter = (e, node) => {
  const mode = node.attr('mode', 'string', 'constant');
  const torchMode = TORCH_PAD_MODES[mode] ?? e.fail(node, `mode ${mode} (torch has constant, reflect and replicate)`);
  const rank = e.rank(node.inputs[0] ?? null) ?? e.fail(node, 'the input rank is unknown');
  // reflect/replicate need the pads themselves (which dims are padded): pads computed from constants (torch's
  // padding_mode='reflect' export) are read from what shape inference proved; constant mode can compute them in torch.
  const pads = node.optionalAttr('pads', 'ints') ?? e.constantInts(node.inputs[1] ?? null) ?? (torchMode === 'constant' ? undefined : e.provenInts(node.inputs[1] ?? null));
  if (!pads) return computedPad(e, node, torchMode, rank);
  const given = node.inputs[3] ? e.constantInts(node.inputs[3]) : Array.from({ length: pads.length / 2 }, (_, i) => i);
  if (!given) return e.fail(node, 'computed axes');
  const axes = given.map((axis) => (axis < 0 ? axis + rank : axis));
  const begins = new Array<number>(rank).fill(0);
  const ends = new Array<number>(rank).fill(0);
  axes.forEach((axis, i) => {
    begins[axis] = pads[i]!;
    ends[axis] = pads[i + axes.length]!;
  });
  const first = begins.findIndex((p, axis) => p !== 0 || ends[axis] !== 0);
  if (first < 0) return e.bind(node.output(0), input(e, node));
  const torchPads: number[] = [];
  for (let axis = rank - 1; axis >= first; axis--) torchPads.push(begins[axis]!, ends[axis]!);
  if (torchMode === 'constant') {
    const valueInput = node.inputs[2] ?? null;
    const value = valueInput ? e.constantNumber(valueInput) : node.attr('value', 'float', 0);
    if (value === undefined) e.fail(node, 'a computed constant_value');
    e.assign(node, `torch.constant_pad_nd(${input(e, node)}, ${pyInts(torchPads)}, ${pyFloat(value!)})`);
    return;
  }
  const padded = torchPads.length / 2;
  if (padded > 3 || torchPads.some((p) => p < 0)) {
    e.fail(node, `${mode} padding of ${padded} trailing dim(s) (torch pads 1–3 trailing dims, by non-negative amounts)`);
  }
  if (rank <= padded + 2) {
    e.assign(node, `torch.pad(${input(e, node)}, ${pyInts(torchPads)}, "${torchMode}")`);
    return;
  }
  // More leading dims than torch's reflection/replication kernels take: merge them into one, pad, restore them.
  const x = input(e, node);
  const merged = `${e.name(node.output(0))}_merged`;
  e.line(`${merged} = torch.pad(torch.flatten(${x}, 0, ${rank - padded - 1}), ${pyInts(torchPads)}, "${torchMode}")`);
  const leading = Array.from({ length: rank - padded }, (_, axis) => `torch.size(${x}, ${axis})`);
  const trailing = Array.from({ length: padded }, (_, k) => `torch.size(${merged}, ${k + 1})`);
  e.assign(node, `torch.reshape(${merged}, [${[...leading, ...trailing].join(', ')}])`);
};

/** Shape, with opset 15's start/end (negative from the end, clamped) as a slice of it. */
const shape: OpEmitter = (e, node) => {
  const start = node.optionalAttr('start', 'int');
  const end = node.optionalAttr('end', 'int');
  const whole = `torch._shape_as_tensor(${input(e, node)})`;
  if (start === undefined && end === undefined) {
    e.assign(node, whole);
    return;
  }
  // torch.slice wraps a negative bound once and clamps, as ONNX's Shape does.
  e.assign(node, `torch.slice(${whole}, 0, ${start ?? 0}, ${end ?? Number.MAX_SAFE_INTEGER}, 1)`);
};

const constantOfShape: OpEmitter = (e, node) => {
  const fill = node.optionalAttr('value', 'tensor');
  const dtype = fill ? fill.dtype : 'float32';
  // torch ScalarType codes (c10/core/ScalarType.h).
  const torchDtype = ({ uint8: 0, int8: 1, int16: 2, int32: 3, int64: 4, float16: 5, float32: 6, float64: 7, bool: 11 } as Record<string, number>)[dtype];
  if (torchDtype === undefined) return e.fail(node, `a ${dtype} fill value`);
  const value = fill ? fill.toNumbers()[0]! : 0;
  const known = e.constantInts(node.inputs[0] ?? null);
  // aten::full's fill_value is a 'number' in TorchScript: a bool literal does not compile (torch 1.13), so a bool fill is
  // 1 or 0 with dtype=bool. int64 fills keep every digit (toNumbers would round past 2^53).
  const literal = dtype === 'bool' ? (value ? '1' : '0') : dtype.startsWith('float') ? pyFloat(value) : dtype === 'int64' ? String(fill ? (fill.data() as BigInt64Array)[0]! : 0) : String(value);
  if (known) {
    e.assign(node, `torch.full(${pyInts(known)}, ${literal}, dtype=${torchDtype})`);
    return;
  }
  const list = `${e.name(node.output(0))}_shape`;
  e.line(`${list} : List[int] = (${input(e, node)}).tolist()`);
  e.assign(node, `torch.full(${list}, ${literal}, dtype=${torchDtype})`);
};

export const opEmitters: ReadonlyMap<string, OpEmitter> = new Map<string, OpEmitter>([
  ...recurrentEmitters,
  ...detectionEmitters,
  ...reductionEmitters,
  ...quantizeEmitters,
  ...samplingEmitters,
  ['onnx.Cast', cast],
  ['onnx.Slice', slice],
  ['onnx.Pad', pad],
  ['onnx.Expand', expand],
  ['onnx.Range', range],
  ['onnx.ScatterND', scatterNd],
  ['onnx.ScatterElements', scatterElements],
  ['onnx.Where', (e, node) => e.assign(node, `torch.where(${input(e, node)}, ${input(e, node, 1)}, ${input(e, node, 2)})`)],
  ['onnx.Mod', (e, node) => {
    // fmod=0 takes the divisor's sign (Python's %, torch.remainder); fmod=1 the dividend's (C's fmod).
    e.assign(node, `torch.${node.attr('fmod', 'int', 0) === 1 ? 'fmod' : 'remainder'}(${input(e, node)}, ${input(e, node, 1)})`);
  }],
  ['onnx.Resize', resizeEmitter],
  ['onnx.Upsample', resizeEmitter],
  ['onnx.ConstantOfShape', constantOfShape],
  ['onnx.Conv', conv],
  ['onnx.ConvTranspose', convTranspose],
  ['onnx.Einsum', einsum],
  ['onnx.MaxPool', pool('max')],
  ['onnx.AveragePool', pool('avg')],
  ['onnx.GlobalAveragePool', globalAveragePool],
  ['onnx.BatchNormalization', batchNormalization],
  ['onnx.LayerNormalization', layerNormalization],
  ['onnx.InstanceNormalization', instanceNormalization],
  ['onnx.TopK', topK],
  ['onnx.Trilu', trilu],
  ['onnx.PRelu', prelu],
  ['onnx.CumSum', cumSum],
  ['onnx.LeakyRelu', (e, node) => e.assign(node, `torch.leaky_relu(${input(e, node)}, ${pyFloat(node.attr('alpha', 'float', 0.01))})`)],
  ['onnx.Elu', (e, node) => e.assign(node, `torch.elu(${input(e, node)}, ${pyFloat(node.attr('alpha', 'float', 1))})`)],
  ['onnx.ReduceL2', reduce('sum', { input: (x) => `torch.mul(${x}, ${x})`, output: (y) => `torch.sqrt(${y})` })],
  // torch's softplus returns x above its threshold of 20, where log(1 + e^x) differs from x by under 2.1e-9.
  ['onnx.Softplus', unary('torch.softplus')],
  ['onnx.Gemm', gemm],
  ['onnx.MatMul', binary('torch.matmul')],
  ['onnx.Add', binary('torch.add')],
  ['onnx.Sub', binary('torch.sub')],
  ['onnx.Mul', binary('torch.mul')],
  ['onnx.Div', (e, node) => {
    e.minimumVersion = Math.max(e.minimumVersion, 4);
    const integral = isIntegral(node.output(0));
    e.assign(node, `torch.div(${input(e, node)}, ${input(e, node, 1)}${integral ? ', rounding_mode="trunc"' : ''})`);
  }],
  ['onnx.Pow', binary('torch.pow')],
  ['onnx.Equal', binary('torch.eq')],
  ['onnx.Less', binary('torch.lt')],
  ['onnx.Greater', binary('torch.gt')],
  ['onnx.Relu', unary('torch.relu')],
  ['onnx.Sigmoid', unary('torch.sigmoid')],
  ['onnx.Tanh', unary('torch.tanh')],
  ['onnx.Exp', unary('torch.exp')],
  ['onnx.Log', unary('torch.log')],
  ['onnx.Sqrt', unary('torch.sqrt')],
  ['onnx.Neg', unary('torch.neg')],
  ['onnx.Abs', unary('torch.abs')],
  ['onnx.Erf', unary('torch.erf')],
  ['onnx.Floor', unary('torch.floor')],
  ['onnx.Reciprocal', unary('torch.reciprocal')],
  ['onnx.Not', unary('torch.logical_not')],
  ['onnx.HardSwish', unary('torch.hardswish')],
  ['onnx.HardSigmoid', hardSigmoid],
  ['onnx.Softmax', softmax('softmax')],
  ['onnx.LogSoftmax', softmax('log_softmax')],
  ['onnx.Clip', clip],
  ['onnx.Flatten', flatten],
  ['onnx.Reshape', reshape],
  ['onnx.Transpose', transpose],
  ['onnx.Concat', concat],
  ['onnx.Unsqueeze', unsqueeze],
  ['onnx.Squeeze', squeeze],
  ['onnx.Split', split],
  ['onnx.ReduceMean', reduce('mean')],
  ['onnx.ReduceSum', reduce('sum')],
  ['onnx.ReduceMax', reduce('amax')],
  ['onnx.ReduceMin', reduce('amin')],
  ['onnx.ReduceLogSumExp', reduce('logsumexp')],
  ['onnx.ReduceLogSum', reduce('sum', { input: (x) => x, output: (y) => `torch.log(${y})` })],
  ['onnx.ReduceSumSquare', reduce('sum', { input: (x) => `torch.mul(${x}, ${x})`, output: (y) => y })],
  ['onnx.ReduceL1', reduce('sum', { input: (x) => `torch.abs(${x})`, output: (y) => y })],
  ['onnx.ReduceProd', reduceProd],
  ['onnx.Sign', unary('torch.sign')],
  ['onnx.Gather', gather],
  ['onnx.Shape', shape],
  ['onnx.Size', (e, node) => e.assign(node, `torch.prod(torch._shape_as_tensor(${input(e, node)}))`)],
  ['onnx.Identity', identity],
  ['onnx.Dropout', dropout],
  ['onnx.DepthToSpace', depthToSpace],
]);
