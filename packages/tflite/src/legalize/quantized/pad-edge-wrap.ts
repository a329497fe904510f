import { type Node, type TensorType, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import { dimsOf, TfliteEmitter, typeWithShape } from '../lowering-tools.js';

/**
 * TFLite has no edge or wrap padding (MIRROR_PAD reflects or mirrors with the edge repeated). Both are
 * an index map along each padded axis, so a Pad in mode 'edge' or 'wrap' becomes one GATHER per padded
 * axis with constant int32 indices: edge clamps `i` in [−before, n + after) into [0, n), wrap takes it
 * modulo n. GATHER copies elements, so it is exact for any dtype, int8 included (each GATHER keeps its
 * input's quantization; `finishInt8` requantizes after the last one where the model's output differs).
 */

/** The pads of a Pad node (attribute or constant input), or undefined. */
export function constantPads(node: Node): number[] | undefined {
  const attribute = node.optionalAttr('pads', 'ints');
  if (attribute) return [...attribute];
  const tensor = node.inputs[1] ? constantOf(node.inputs[1]) : undefined;
  return tensor?.toNumbers();
}

/** Why an edge/wrap Pad cannot be composed of GATHERs, or undefined. */
export function edgeWrapPadProblem(node: Node): string | undefined {
  const mode = node.optionalAttr('mode', 'string') ?? 'constant';
  const pads = constantPads(node);
  if (!pads) return `a Pad in mode '${mode}' needs constant pads`;
  if (node.inputs[3]) return `a Pad in mode '${mode}' with axes is not supported yet`;
  if (pads.some((p) => p < 0)) return `a Pad in mode '${mode}' with negative pads (cropping) is not supported yet`;
  const dims = dimsOf(node.inputs[0]);
  if (!dims || dims.length * 2 !== pads.length) return `a Pad in mode '${mode}' needs the input's rank (${pads.length / 2} from its pads)`;
  for (let axis = 0; axis < dims.length; axis++) {
    if (pads[axis] === 0 && pads[axis + dims.length] === 0) continue;
    const dim = dims[axis];
    if (typeof dim !== 'number') return `a Pad in mode '${mode}' needs a static dim along padded axis ${axis} (it becomes a GATHER with constant indices)`;
    if (dim === 0) return `a Pad in mode '${mode}' of an empty axis ${axis} has nothing to repeat`;
  }
  return undefined;
}

/** The source index of each output position along an axis of `dim` elements padded by `before`/`after`. */
export function padIndices(mode: 'edge' | 'wrap', dim: number, before: number, after: number): number[] {
  return Array.from({ length: before + dim + after }, (_, k) => {
    const i = k - before;
    return mode === 'edge' ? Math.min(dim - 1, Math.max(0, i)) : ((i % dim) + dim) % dim;
  });
}

/** The GATHER chain for an edge/wrap Pad; its last value has the node's output type. */
export function edgeWrapPad(emit: TfliteEmitter, node: Node): Value {
  const mode = (node.optionalAttr('mode', 'string') ?? 'constant') as 'edge' | 'wrap';
  const pads = constantPads(node)!;
  const x = node.input(0);
  const dims = [...dimsOf(x)!] as number[];
  const rank = dims.length;
  const padded = Array.from({ length: rank }, (_, axis) => axis).filter((axis) => pads[axis]! > 0 || pads[axis + rank]! > 0);
  const outputType = node.output(0).type as TensorType;
  if (padded.length === 0) return emit.op1('RESHAPE', [x, emit.int32(dims, [rank], 'shape')], {}, outputType);
  let y = x;
  padded.forEach((axis, k) => {
    const indices = padIndices(mode, dims[axis]!, pads[axis]!, pads[axis + rank]!);
    dims[axis] = indices.length;
    const type = k === padded.length - 1 ? outputType : typeWithShape(x.type, dims);
    y = emit.op1('GATHER', [y, emit.int32(indices, [indices.length], `${mode}_indices_${axis}`)], { axis, batch_dims: 0 }, type);
  });
  return y;
}
