import type { Node } from '@modelpass/ir';
import { constantOf } from '../util/constants.js';
import { floatsOf, FUSIBLE_FLOAT_DTYPES } from '../util/float-math.js';
import { onnxOpset } from './helpers.js';
import type { PatternEnv } from './pattern.js';

/** An inference-mode BatchNormalization as an affine map per channel: y = x * scale + shift. */
export interface ChannelAffine {
  scale: Float64Array;
  shift: Float64Array;
  /** The mean the bias must subtract before scaling (BN only; zeros for Mul/Add). */
  mean: Float64Array;
}

/**
 * Reads an inference-mode BatchNormalization with constant parameters of `channels` entries.
 * Returns a reason string when it is not one.
 */
export function batchNormAffine(node: Node, channels: number, env: PatternEnv): ChannelAffine | string {
  if (node.outputs.slice(1).some((output) => output && output.hasUses)) return 'it is in training mode (running statistics are used)';
  if (node.optionalAttr('training_mode', 'int') === 1) return 'training_mode=1';
  const opset = onnxOpset(env) ?? 17;
  const spatial = node.optionalAttr('spatial', 'int');
  if (opset < 9 && spatial === 0) return 'spatial=0 (per-activation statistics)';
  const isTest = node.optionalAttr('is_test', 'int');
  if (opset < 7 && isTest === 0) return 'is_test=0';
  const params = [1, 2, 3, 4].map((i) => constantOf(node.inputs[i]));
  if (params.some((p) => !p)) return 'scale, bias, mean and variance must all be constants';
  const [gamma, beta, mean, variance] = params.map((p) => p!);
  for (const p of [gamma!, beta!, mean!, variance!]) {
    if (!FUSIBLE_FLOAT_DTYPES.has(p.dtype)) return `parameter dtype ${p.dtype} is not float32/float64`;
    if (p.size !== channels || p.rank !== 1) return `parameters of shape [${p.shape.join(',')}] do not match ${channels} channels`;
  }
  const epsilon = node.optionalAttr('epsilon', 'float') ?? 1e-5;
  if (!(epsilon >= 0) || !Number.isFinite(epsilon)) return `epsilon ${epsilon} is not a finite non-negative number`;
  const g = floatsOf(gamma!);
  const b = floatsOf(beta!);
  const m = floatsOf(mean!);
  const v = floatsOf(variance!);
  const scale = new Float64Array(channels);
  const shift = new Float64Array(channels);
  // The epsilon attribute is a float32; ONNX Runtime adds it in float32 arithmetic.
  const eps = Math.fround(epsilon);
  for (let c = 0; c < channels; c++) {
    const denominator = Math.sqrt(v[c]! + eps);
    if (!(denominator > 0) || !Number.isFinite(denominator)) return `variance + epsilon of channel ${c} is not positive and finite`;
    scale[c] = g[c]! / denominator;
    shift[c] = b[c]!;
    if (!Number.isFinite(scale[c]!)) return `scale of channel ${c} is not finite`;
  }
  return { scale, shift, mean: m };
}
