/** Shape and layout ops (Reshape, Flatten, Transpose, Concat, (Un)Squeeze, Split, Expand, DepthToSpace, Shape, Size) and the pass-throughs Identity and Dropout. */
import { isTensorType } from '@modelpass/ir';
import { pyInts, type OpEmitter } from './emit-context.js';
import { axesOf, input, shapeLength } from './emit-operands.js';

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
  // The whole shape of another tensor (GroupNorm's Reshape(y, Shape(conv)) as torch.onnx writes it): a 0 there means a
  // zero-sized tensor, whose elements are none either way, so torch.size reads it as is and the static dims stay known
  // on reading back (QA s19: the where-over-shape form read fmnet's [n,16,28,28] back as [?,?,?,28], and legalize-tflite
  // refused its Flatten).
  const shapeOf = node.inputs[1]?.producer;
  if (shapeOf?.op === 'onnx.Shape' && shapeOf.inputs[0] && !shapeOf.getAttribute('start') && !shapeOf.getAttribute('end')) {
    e.assign(node, `torch.reshape(${x}, torch.size(${input(e, shapeOf)}))`);
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

const unsqueeze: OpEmitter = (e, node) => {
  const axes = axesOf(e, node);
  if (!axes) return e.fail(node, 'computed axes');
  const rank = e.rank(node.inputs[0] ?? null);
  const outRank = rank === undefined ? undefined : rank + axes.length;
  let expression = input(e, node);
  if (outRank === undefined && axes.every((a) => a < 0)) {
    // Rank unknown, every axis counted from the end: torch's negative dims count from the end too; the one nearest the end first.
    for (const axis of [...axes].sort((a, b) => b - a)) expression = `torch.unsqueeze(${expression}, ${axis})`;
    return e.assign(node, expression);
  }
  if (axes.some((a) => a < 0) && outRank === undefined) e.fail(node, 'negative and non-negative axes with the rank unknown');
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
  let expression = input(e, node);
  if (rank === undefined && axes.every((a) => a < 0)) {
    // Rank unknown, every axis counted from the end: the one farthest from the end first, so the others keep their place.
    for (const axis of [...axes].sort((a, b) => a - b)) expression = `torch.squeeze(${expression}, ${axis})`;
    return e.assign(node, expression);
  }
  if (axes.some((a) => a < 0) && rank === undefined) e.fail(node, 'negative and non-negative axes with the rank unknown');
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

const identity: OpEmitter = (e, node) => e.bind(node.output(0), input(e, node));

/** Inference Dropout is the identity; in training mode it draws a random mask, and its mask output is not written. */
const dropout: OpEmitter = (e, node) => {
  const training = node.inputs[2] ?? null;
  const ratio = node.inputs[1] ? e.constantNumber(node.inputs[1]) : 0.5;
  if (training && e.constantNumber(training) !== 0 && ratio !== 0) return e.fail(node, 'training_mode that is not a constant false (a random mask)');
  const mask = node.outputs[1];
  if (mask && (mask.hasUses || mask.isGraphOutput)) return e.fail(node, 'the mask output');
  identity(e, node);
};

export const shapeEmitters: ReadonlyArray<[string, OpEmitter]> = [
  ['onnx.Flatten', flatten],
  ['onnx.Reshape', reshape],
  ['onnx.Transpose', transpose],
  ['onnx.Concat', concat],
  ['onnx.Unsqueeze', unsqueeze],
  ['onnx.Squeeze', squeeze],
  ['onnx.Split', split],
  ['onnx.Expand', expand],
  ['onnx.DepthToSpace', depthToSpace],
  ['onnx.Shape', shape],
  ['onnx.Size', (e, node) => e.assign(node, `torch.prod(torch._shape_as_tensor(${input(e, node)}))`)],
  ['onnx.Identity', identity],
  ['onnx.Dropout', dropout],
];
