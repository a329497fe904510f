/**
 * GridSample as `torch.grid_sampler` (the op behind `F.grid_sample`, 4-D and 5-D inputs): ONNX's mode and
 * padding names map to torch's enum codes (interpolation bilinear 0, nearest 1, bicubic 2; padding zeros 0,
 * border 1, reflection 2), and align_corners is passed as is. Tile as `torch.tile` of the repeats.
 */
import { type EmitContext, type OpEmitter, pyInts } from './emit-context.js';

const INTERPOLATION: Readonly<Record<string, number>> = { bilinear: 0, linear: 0, nearest: 1, bicubic: 2, cubic: 2 };
const PADDING: Readonly<Record<string, number>> = { zeros: 0, border: 1, reflection: 2 };

const gridSample: OpEmitter = (e, node) => {
  const mode = node.attr('mode', 'string', 'bilinear');
  const padding = node.attr('padding_mode', 'string', 'zeros');
  const interpolation = INTERPOLATION[mode];
  const paddingCode = PADDING[padding];
  if (interpolation === undefined) return e.fail(node, `GridSample mode '${mode}'`);
  if (paddingCode === undefined) return e.fail(node, `GridSample padding_mode '${padding}'`);
  const rank = e.rank(node.inputs[0] ?? null);
  if (rank !== 4 && rank !== 5) return e.fail(node, `GridSample of a rank-${rank ?? '?'} input (torch samples 4-D and 5-D inputs)`);
  if (rank === 5 && interpolation === 2) return e.fail(node, 'bicubic GridSample of a 5-D input (torch has no 3-D bicubic sampling)');
  const align = node.attr('align_corners', 'int', 0) === 1 ? 'True' : 'False';
  e.assign(node, `torch.grid_sampler(${e.name(node.inputs[0] ?? null)}, ${e.name(node.inputs[1] ?? null)}, ${interpolation}, ${paddingCode}, ${align})`);
};

const tile: OpEmitter = (e, node) => {
  const known = e.constantInts(node.inputs[1] ?? null);
  if (known) {
    e.assign(node, `torch.tile(${e.name(node.inputs[0] ?? null)}, ${pyInts(known)})`);
    return;
  }
  const list = `${e.name(node.output(0))}_repeats`;
  e.line(`${list} : List[int] = (${e.name(node.inputs[1] ?? null)}).tolist()`);
  e.assign(node, `torch.tile(${e.name(node.inputs[0] ?? null)}, ${list})`);
};

export const samplingEmitters: ReadonlyArray<[string, OpEmitter]> = [
  ['onnx.GridSample', gridSample],
  ['onnx.Tile', tile],
  ['onnx.Ceil', (e: EmitContext, node) => e.assign(node, `torch.ceil(${e.name(node.inputs[0] ?? null)})`)],
];
