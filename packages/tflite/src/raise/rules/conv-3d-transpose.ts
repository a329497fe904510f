import { attrs, type Attribute, type Node, type Type, type Value } from '@modelpass/ir';
import { transposeTensor } from '@modelpass/transforms';
import { constantOf, numbersOf } from '../../legalize/constant-values.js';
import { staticDims, tensorTypeOf } from '../../legalize/lowering-tools.js';
import { CanonicalEmitter, replaceRaised } from '../canonical-emitter.js';
import type { RaiseRule } from '../raise-rule.js';

/**
 * CONV_3D_TRANSPOSE(output_shape, filter [kD, kH, kW, out, in], NDHWC input, bias?) → ConvTranspose on NCDHW
 * between layout transposes, weight [in, out, kD, kH, kW]. TFLite pads as for the forward convolution that maps
 * output_shape back to the input: total (in − 1)·stride + (k − 1)·dilation + 1 − out per axis, clamped at 0, the
 * odd one after; whatever output_shape adds beyond ONNX's size is output_padding (below the stride).
 */

interface VolumePlan {
  pads: number[];
  outputPadding: number[];
  kernel: number[];
  strides: number[];
  dilations: number[];
}

const ACTIVATIONS = ['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1', 'TANH'];

function plan(node: Node): VolumePlan | string {
  const out = numbersOf(node.inputs[0]);
  const filter = constantOf(node.inputs[1]);
  const input = staticDims(node.inputs[2]);
  if (!out || out.length !== 5) return 'the output_shape must be a constant of 5 dims (NDHWC)';
  if (!filter || filter.rank !== 5 || filter.dtype !== 'float32' || filter.quant) return 'the filter must be a float32 rank-5 constant ([kD, kH, kW, out, in])';
  if (!input || input.length !== 5) return 'needs an NDHWC input of static shape';
  if (filter.shape[4] !== input[4]) return `the filter's ${filter.shape[4]} input channels differ from the input's ${input[4]}`;
  if (filter.shape[3] !== out[4]) return `the filter's ${filter.shape[3]} output channels differ from output_shape's ${out[4]}`;
  const same = (node.optionalAttr('padding', 'string') ?? 'SAME') !== 'VALID';
  const strides = ['d', 'h', 'w'].map((axis) => node.optionalAttr(`stride_${axis}`, 'int') ?? 1);
  const dilations = ['d', 'h', 'w'].map((axis) => node.optionalAttr(`dilation_${axis}_factor`, 'int') ?? 1);
  if ([...strides, ...dilations].some((s) => !Number.isInteger(s) || s < 1)) return `strides ${strides.join(',')} and dilations ${dilations.join(',')} must be positive integers`;
  const kernel = filter.shape.slice(0, 3);
  const pads = [0, 0, 0, 0, 0, 0];
  const outputPadding = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const span = (kernel[i]! - 1) * dilations[i]! + 1;
    const size = out[1 + i]!;
    const rows = same ? Math.ceil(size / strides[i]!) : Math.floor((size - span) / strides[i]!) + 1;
    if (rows !== input[1 + i]) return `output_shape ${size} along ${'DHW'[i]} maps back to ${rows} rows with ${same ? 'SAME' : 'VALID'} padding, not the input's ${input[1 + i]}`;
    const total = Math.max((input[1 + i]! - 1) * strides[i]! + span - size, 0);
    pads[i] = Math.floor(total / 2);
    pads[i + 3] = total - pads[i]!;
    const extra = size - (strides[i]! * (input[1 + i]! - 1) + span - total);
    if (extra < 0 || extra >= strides[i]!) return `output_shape ${size} along ${'DHW'[i]} is not reachable from the input's ${input[1 + i]} with stride ${strides[i]}`;
    outputPadding[i] = extra;
  }
  return { pads, outputPadding, kernel, strides, dilations };
}

const conv3dTranspose: RaiseRule = {
  ops: ['tflite.CONV_3D_TRANSPOSE'],
  targets: ['ConvTranspose', 'Relu', 'Clip', 'Tanh', 'Transpose'],
  check(node) {
    const fused = node.optionalAttr('fused_activation_function', 'string') ?? 'NONE';
    if (!ACTIVATIONS.includes(fused)) return `fused activation ${fused} has no ONNX equivalent`;
    if (node.inputs[3] && !constantOf(node.inputs[3])) return 'the bias must be a constant';
    const planned = plan(node);
    return typeof planned === 'string' ? planned : undefined;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const p = plan(node) as VolumePlan;
    const weight = transposeTensor(constantOf(node.inputs[1])!, [4, 3, 0, 1, 2]);
    const bias = node.inputs[3] ? constantOf(node.inputs[3]) : undefined;
    const attributes: Record<string, Attribute> = {
      kernel_shape: attrs.ints(p.kernel),
      strides: attrs.ints(p.strides),
      dilations: attrs.ints(p.dilations),
      pads: attrs.ints(p.pads),
      ...(p.outputPadding.some((x) => x !== 0) ? { output_padding: attrs.ints(p.outputPadding) } : {}),
    };
    const fused = node.optionalAttr('fused_activation_function', 'string');
    const outer: Type = emit.channelsFirstType(node.output(0).type);
    const y = emit.op1('ConvTranspose', [emit.toChannelsFirst(node.input(2)), emit.constant(weight, 'weight'), bias ? emit.constant(bias, 'bias') : null], attributes, emit.preActivationType(outer, fused));
    const activated = emit.activation(y, fused, outer) as Value;
    replaceRaised(node, [emit.toChannelsLast(activated)]);
  },
};

/**
 * RFFT2D is refused by node with its reason: its output is complex64, and canonical ONNX has no complex tensors
 * (DFT gives [..., 2] real pairs) that ONNX Runtime could hand on to the complex ops that read it.
 */
const rfft2d: RaiseRule = {
  ops: ['tflite.RFFT2D'],
  targets: [],
  check: (node) =>
    `RFFT2D's output is ${tensorTypeOf(node.outputs[0])?.dtype ?? 'complex64'}; ONNX has no complex tensor type that ONNX Runtime runs (its DFT returns real/imaginary pairs in a last axis of 2), so this node cannot be raised faithfully`,
  raise() {
    throw new Error('unreachable: RFFT2D is refused by check');
  },
};

export const conv3dTransposeRaiseRules: readonly RaiseRule[] = [conv3dTranspose, rfft2d];
