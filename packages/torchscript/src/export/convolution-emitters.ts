/** Convolution and pooling (Conv, ConvTranspose, MaxPool, AveragePool, GlobalAveragePool) as `torch.conv*d` and `torch.*_pool*d`. */
import type { Node } from '@modelpass/ir';
import { pyFloat, pyInts, type EmitContext, type OpEmitter } from './emit-context.js';
import { input } from './emit-operands.js';

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

export const convolutionEmitters: ReadonlyArray<[string, OpEmitter]> = [
  ['onnx.Conv', conv],
  ['onnx.ConvTranspose', convTranspose],
  ['onnx.MaxPool', pool('max')],
  ['onnx.AveragePool', pool('avg')],
  ['onnx.GlobalAveragePool', globalAveragePool],
];
