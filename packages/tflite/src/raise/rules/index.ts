import { RaiseRegistry } from '../raise-rule.js';
import { controlFlowRaiseRules } from './control-flow.js';
import { conv3dTransposeRaiseRules } from './conv-3d-transpose.js';
import { customRaiseRules } from './custom.js';
import { runTimeSlicingRaiseRules } from './run-time-slicing.js';
import { elementwiseRaiseRules } from './elementwise.js';
import { nonMaxSuppressionRaiseRules } from './non-max-suppression.js';
import { packRaiseRules } from './pack.js';
import { quantizedRaiseRules } from './quantized.js';
import { randomRaiseRules } from './random.js';
import { segmentRaiseRules } from './segments.js';
import { shapeRaiseRules } from './shape.js';
import { slicingRaiseRules } from './slicing.js';
import { spaceBatchRaiseRules } from './space-batch.js';
import { tf2onnxMathRaiseRules } from './tf2onnx-math.js';
import { tf2onnxShapeRaiseRules } from './tf2onnx-shape.js';
import { windowRaiseRules } from './window.js';

/** Every tflite → canonical rule this package ships. */
export function defaultRaiseRules(): RaiseRegistry {
  return new RaiseRegistry([...windowRaiseRules, ...elementwiseRaiseRules, ...shapeRaiseRules, ...slicingRaiseRules, ...controlFlowRaiseRules, ...runTimeSlicingRaiseRules, ...quantizedRaiseRules, ...packRaiseRules, ...customRaiseRules, ...nonMaxSuppressionRaiseRules, ...conv3dTransposeRaiseRules, ...randomRaiseRules, ...spaceBatchRaiseRules, ...segmentRaiseRules, ...tf2onnxMathRaiseRules, ...tf2onnxShapeRaiseRules]);
}
