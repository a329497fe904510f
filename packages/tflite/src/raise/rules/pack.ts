import { attrs, type Node, type Value } from '@modelpass/ir';
import { dimsOf, normalizeAxis, rankOfValue } from '../../legalize/lowering-tools.js';
import { CanonicalEmitter, replaceRaised } from '../canonical-emitter.js';
import type { RaiseContext, RaiseRule } from '../raise-rule.js';

/** Unsqueeze/Squeeze of one axis: the axes as an input from opset 13, as an attribute before. */
function axisOperands(emit: CanonicalEmitter, context: RaiseContext, axis: number, name: string): { inputs: (Value | null)[]; attributes: Record<string, ReturnType<typeof attrs.ints>> } {
  return context.opset >= 13 ? { inputs: [emit.int64([axis], name)], attributes: {} } : { inputs: [], attributes: { axes: attrs.ints([axis]) } };
}

/** PACK (values_count tensors of one shape, stacked along a new `axis`) → one Unsqueeze per input, then Concat. */
const pack: RaiseRule = {
  ops: ['tflite.PACK'],
  targets: ['Unsqueeze', 'Concat'],
  check(node) {
    const rank = rankOfValue(node.outputs[0]);
    if (rank === undefined) return 'needs the output rank';
    if (normalizeAxis(node.optionalAttr('axis', 'int') ?? 0, rank) === undefined) return `axis ${node.optionalAttr('axis', 'int')} is out of range for the rank-${rank} output`;
    if (node.inputs.length === 0 || node.inputs.some((input) => !input)) return 'needs at least one input, none omitted';
    return undefined;
  },
  raise(node, context) {
    const emit = new CanonicalEmitter(node);
    const outType = node.output(0).type;
    const rank = rankOfValue(node.outputs[0])!;
    const axis = normalizeAxis(node.optionalAttr('axis', 'int') ?? 0, rank)!;
    const unsqueezed = node.inputs.map((input, i) => {
      const dims = dimsOf(input);
      const type = outType.kind === 'tensor' && dims ? { ...outType, shape: [...dims.slice(0, axis), 1, ...dims.slice(axis)] } : { ...outType, shape: null };
      const { inputs, attributes } = axisOperands(emit, context, axis, `axes_${i}`);
      return emit.at.op1('onnx.Unsqueeze', [input!, ...inputs], attributes, { types: [type], name: `${node.name}_unsqueeze_${i}` });
    });
    replaceRaised(node, [unsqueezed.length === 1 ? unsqueezed[0]! : emit.op1('Concat', unsqueezed, { axis: attrs.int(axis) }, outType)]);
  },
};

/** UNPACK (`num` slices along `axis`, that axis removed) → Split into `num` equal parts, then Squeeze of each. */
const unpack: RaiseRule = {
  ops: ['tflite.UNPACK'],
  targets: ['Split', 'Squeeze'],
  check(node) {
    const dims = dimsOf(node.inputs[0]);
    if (!dims) return 'needs the input shape';
    const axis = normalizeAxis(node.optionalAttr('axis', 'int') ?? 0, dims.length);
    if (axis === undefined) return `axis ${node.optionalAttr('axis', 'int')} is out of range for the rank-${dims.length} input`;
    const num = node.optionalAttr('num', 'int') ?? node.outputs.length;
    if (dims[axis] !== num || node.outputs.length !== num) return `UNPACK of ${num} along axis ${axis} needs that static dim (got ${dims[axis] ?? '?'}) and ${num} outputs (got ${node.outputs.length})`;
    return undefined;
  },
  raise(node, context) {
    const emit = new CanonicalEmitter(node);
    const dims = dimsOf(node.inputs[0])!;
    const axis = normalizeAxis(node.optionalAttr('axis', 'int') ?? 0, dims.length)!;
    const count = node.outputs.length;
    const sliceShape = dims.map((d, i) => (i === axis ? 1 : d));
    const dtype = node.output(0).type.kind === 'tensor' ? node.output(0).type : undefined;
    const sliceType = dtype ? { ...dtype, shape: sliceShape } : node.output(0).type;
    const slices =
      count === 1
        ? [node.input(0)]
        : emit.at.create('onnx.Split', [node.input(0), ...(context.opset >= 13 ? [emit.int64(new Array<number>(count).fill(1), 'split')] : [])], {
            axis: attrs.int(axis),
            ...(context.opset >= 18 ? { num_outputs: attrs.int(count) } : {}),
            ...(context.opset < 13 ? { split: attrs.ints(new Array<number>(count).fill(1)) } : {}),
          }, { outputs: count, types: new Array(count).fill(sliceType), name: `${node.name}_split` }).outputs.map((v) => v!);
    const squeezed = slices.map((slice, i) => {
      const { inputs, attributes } = axisOperands(emit, context, axis, `axes_${i}`);
      return emit.at.op1('onnx.Squeeze', [slice, ...inputs], attributes, { types: [node.output(i).type], name: `${node.name}_squeeze_${i}` });
    });
    replaceRaised(node, squeezed);
  },
};

export const packRaiseRules: readonly RaiseRule[] = [pack, unpack];
