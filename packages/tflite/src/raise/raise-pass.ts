import { definePass, option } from '@modelpass/pass-manager';
import { raiseFromTflite } from './raise.js';
import { float16WeightsNote, type Float16WeightsMode } from './float16-weights.js';

export const raiseTflite = definePass({
  name: 'raise-tflite',
  summary: 'Raise tflite dialect ops (NHWC) to canonical ONNX-style ops, with the layout transposes sunk and cancelled',
  description:
    'Folds constant DEQUANTIZE (float16 weights) into float32 constants (said in a note; float16-weights=float16 stores them float16 behind a Cast); ' +
    'quantized tensors (int8/uint8/int16, per tensor or ' +
    'per channel, int32 biases) become ONNX QDQ: QUANTIZE → QuantizeLinear, DEQUANTIZE → DequantizeLinear (float16: Cast), each int8 ' +
    'kernel DequantizeLinear → float op → QuantizeLinear (16-bit tensors raise the opset to 21); reports every node that cannot be raised at once (custom ops ' +
    'by name), turns CONV_2D/DEPTHWISE_CONV_2D/pools/RESIZE_*/DEPTH_TO_SPACE into their NCHW ops between transposes (filters ' +
    'transposed offline), the rest op by op, fused activations into Relu/Clip, then sinks and cancels transposes.',
  options: {
    ioLayout: option.enum(['nhwc', 'nchw'], { default: 'nhwc', help: 'layout of rank-4 graph inputs and outputs: keep the TFLite model\'s (nhwc) or declare NCHW' }),
    opset: option.integer({ default: 13, min: 13, max: 21, help: 'the ONNX opset the result is written for' }),
    float16Weights: option.enum(['float32', 'float16'], {
      default: 'float32',
      help: 'float16 weights behind DEQUANTIZE: float32 constants (said in a note), or float16 initializers read through Cast (legalize-tflite stores those float16 again)',
    }),
  },
  statistics: ['nodes-raised', 'dequantize-folded', 'quantize-inserted', 'dequantize-inserted', 'constants-dequantized', 'float16-weights-kept', 'transposes-inside', 'transposes-at-boundary'],
  run(model, context) {
    const float16Weights = context.options.float16Weights as Float16WeightsMode;
    const result = raiseFromTflite(model, context.registry, { ioLayout: context.options.ioLayout as 'nhwc' | 'nchw', opset: context.options.opset, float16Weights });
    const note = float16WeightsNote(result.float16Weights, float16Weights);
    if (note) context.report(note);
    context.statistic('float16-weights-kept', result.float16Weights.kept);
    context.statistic('nodes-raised', result.raised);
    context.statistic('dequantize-folded', result.foldedDequantize);
    context.statistic('quantize-inserted', result.quantizeInserted);
    context.statistic('dequantize-inserted', result.dequantizeInserted);
    context.statistic('constants-dequantized', result.constantsDequantized);
    context.statistic('transposes-inside', result.transposes.inner);
    context.statistic('transposes-at-boundary', result.transposes.boundary);
    return context.preserveNone();
  },
});
