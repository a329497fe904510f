/** Pad as `torch.constant_pad_nd` or `torch.pad(…, "reflect" | "replicate")`. */
import { isTensorType, type Node } from '@modelpass/ir';
import { pyFloat, pyInts, type EmitContext, type OpEmitter } from './emit-context.js';
import { input } from './emit-operands.js';

/** ONNX Pad modes → torch.pad's (wrap has none). */
const TORCH_PAD_MODES: Readonly<Record<string, string>> = { constant: 'constant', reflect: 'reflect', edge: 'replicate' };

/**
 * A constant-mode Pad whose pads are computed at run time (swin's window pad from a symbolic H/W):
 * each of the 2·rank entries read as a Python int. Other modes need to know which dims are padded.
 */
function computedPad(e: EmitContext, node: Node, torchMode: string, rank: number): void {
  if (torchMode !== 'constant') return e.fail(node, `computed pads in ${torchMode} mode (constant mode only)`);
  if (node.inputs[3]) return e.fail(node, 'computed pads with axes');
  const entry = (i: number) => `int(torch.select(${input(e, node, 1)}, 0, ${i}))`;
  const torchPads: string[] = [];
  for (let axis = rank - 1; axis >= 0; axis--) torchPads.push(entry(axis), entry(axis + rank));
  e.assign(node, `torch.constant_pad_nd(${input(e, node)}, [${torchPads.join(', ')}], ${constantFill(e, node)})`);
}

/**
 * The fill of a constant-mode Pad as a Python float: the constant, or `float(v)` of a one-element value computed at
 * run time (a raised int8 PADV2's fill is DequantizeLinear of an int8 code: QA s19, googlenet int8 .tflite → .pt).
 */
function constantFill(e: EmitContext, node: Node): string {
  const valueInput = node.inputs[2] ?? null;
  if (!valueInput) return pyFloat(node.attr('value', 'float', 0));
  const value = e.constantNumber(valueInput);
  if (value !== undefined) return pyFloat(value);
  const shape = isTensorType(valueInput.type) ? valueInput.type.shape : undefined;
  const oneElement = shape != null && shape.every((dim) => dim === 1);
  if (!oneElement) return e.fail(node, 'a computed constant_value that is not known to hold one element');
  return `float(${input(e, node, 2)})`;
}

/**
 * Pad → `torch.constant_pad_nd` (constant mode, any axes, negative pads crop) or `torch.pad(…, "reflect" |
 * "replicate")`, which pads only the last 1–3 dims of a tensor with one or two more (a tensor padded in
 * every dim gets a leading unit dim for the call; more leading dims are merged into one). torch lists the
 * last dim first: `[last_begin, last_end, …]`.
 */
export const padEmitter: OpEmitter = (e, node) => {
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
    e.assign(node, `torch.constant_pad_nd(${input(e, node)}, ${pyInts(torchPads)}, ${constantFill(e, node)})`);
    return;
  }
  const padded = torchPads.length / 2;
  if (padded > 3 || torchPads.some((p) => p < 0)) {
    e.fail(node, `${mode} padding of ${padded} trailing dim(s) (torch pads 1–3 trailing dims, by non-negative amounts)`);
  }
  if (rank === padded) {
    // Every dim padded: the kernels want one more (a batch) dim than they pad, so add one and take it off again.
    e.assign(node, `torch.squeeze(torch.pad(torch.unsqueeze(${input(e, node)}, 0), ${pyInts(torchPads)}, "${torchMode}"), 0)`);
    return;
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
