/**
 * tflite.CUSTOM: custom ops whose kernels are published and fixed are raised by their name; any other
 * custom op is refused by name (its options are the custom kernel's private bytes).
 *
 * MediaPipe's `Convolution2DTransposeBias` (selfie segmentation, hair segmentation, …) is TFLite's
 * reference TransposeConv plus a bias: inputs (input NHWC, weights OHWI, bias), custom options the
 * C struct TfLiteTransposeConvParams — int32 padding (1 SAME, 2 VALID), int32 stride_width, int32
 * stride_height — and the padding TRANSPOSE_CONV computes from the output tensor's shape.
 */
import type { Node } from '@modelpass/ir';
import { dimsOf } from '../../legalize/lowering-tools.js';
import type { RaiseRule } from '../raise-rule.js';
import { DETECTION_POSTPROCESS, detectionPostProcessProblem, raiseDetectionPostProcess } from './detection-postprocess.js';
import { raisedConstantOf } from './shape.js';
import { raiseTransposeConv, transposeConvPlanOf, type TransposeConvPlan } from './window.js';

export const MEDIAPIPE_TRANSPOSE_CONV_BIAS = 'Convolution2DTransposeBias';

/** TfLiteTransposeConvParams as MediaPipe's converter writes it: 12 little-endian bytes. */
function transposeConvBiasOptions(node: Node): { same: boolean; strides: number[] } | string {
  const options = node.optionalAttr('custom_options', 'tensor');
  const bytes = options?.toNumbers().map(Number) ?? [];
  if (bytes.length < 12) return `its options hold ${bytes.length} bytes; expected MediaPipe's 12 (padding, stride_width, stride_height as int32)`;
  const view = new DataView(Uint8Array.from(bytes).buffer);
  const padding = view.getInt32(0, true);
  const strideWidth = view.getInt32(4, true);
  const strideHeight = view.getInt32(8, true);
  if (padding !== 1 && padding !== 2) return `its padding ${padding} is neither 1 (SAME) nor 2 (VALID)`;
  return { same: padding === 1, strides: [strideHeight, strideWidth] };
}

function transposeConvBiasPlan(node: Node): TransposeConvPlan | string {
  if (node.inputs.length !== 3 || node.outputs.length !== 1) return `takes 3 inputs (input, weights, bias) and gives 1 output; this node has ${node.inputs.length} and ${node.outputs.length}`;
  const options = transposeConvBiasOptions(node);
  if (typeof options === 'string') return options;
  if (!raisedConstantOf(node.inputs[2])) return 'the bias must be a constant';
  const outputDims = dimsOf(node.outputs[0]);
  const outputShape = outputDims?.every((d): d is number => typeof d === 'number') ? outputDims : undefined;
  if (!outputShape) return 'needs the output tensor\'s static NHWC shape (it sets the padding)';
  return transposeConvPlanOf({ outputShape, filter: node.inputs[1], input: node.inputs[0], same: options.same, strides: options.strides });
}

const custom: RaiseRule = {
  ops: ['tflite.CUSTOM'],
  targets: ['ConvTranspose', 'Transpose', 'NonMaxSuppression', 'Exp', 'Slice', 'ReduceMax', 'ArgMax', 'Gather', 'Pad', 'Concat'],
  check(node, context) {
    const code = node.optionalAttr('custom_code', 'string') ?? '?';
    if (code === DETECTION_POSTPROCESS) {
      const problem = detectionPostProcessProblem(node, context.opset);
      return problem === undefined ? undefined : `TFLite custom op '${code}': ${problem}`;
    }
    if (code === MEDIAPIPE_TRANSPOSE_CONV_BIAS) {
      const plan = transposeConvBiasPlan(node);
      return typeof plan === 'string' ? `MediaPipe custom op '${code}': ${plan}` : undefined;
    }
    return `TFLite custom op '${code}' has no ONNX equivalent here (a custom op's kernel and options are its author's; raised by name: ${MEDIAPIPE_TRANSPOSE_CONV_BIAS}, ${DETECTION_POSTPROCESS})`;
  },
  raise(node) {
    if (node.optionalAttr('custom_code', 'string') === DETECTION_POSTPROCESS) return raiseDetectionPostProcess(node);
    const plan = transposeConvBiasPlan(node) as TransposeConvPlan;
    raiseTransposeConv(node, node.input(0), node.input(1), node.inputs[2], plan);
  },
};

export const customRaiseRules: readonly RaiseRule[] = [custom];
