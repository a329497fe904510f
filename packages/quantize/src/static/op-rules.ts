/**
 * Which ops quantize-static quantizes, and how: a table by op, following what ONNX Runtime's QDQ
 * graph transformers fuse into integer kernels on CPU (qdq_selector_action_transformer.cc):
 *
 * - `weighted`: Conv, MatMul, Gemm. DQ on every input (weight int8 per channel, bias int32), Q on the
 *   output → QLinearConv / QLinearMatMul / QGemm. MatMul and Gemm also fuse without a Q on the output
 *   (MatMulIntegerToFloat, QGemm with a float output), so their output is quantized only when a
 *   quantized op reads it.
 * - `own-range`: Add, Mul (QLinearAdd/QLinearMul), Concat (QLinearConcat), AveragePool,
 *   GlobalAveragePool, Sigmoid, LeakyRelu, Softmax (QLinear* of com.microsoft): DQ on every input,
 *   Q on the output with the output's own calibrated range.
 * - `shares-input`: ops that move or select values without computing new ones (MaxPool, Reshape,
 *   Flatten, Transpose, Squeeze, Unsqueeze, Gather, Slice, Expand, Tile, Resize): ORT drops their
 *   DQ→op→Q when both sides have the same scale and zero point, so the output takes the input's.
 * - `fused-activation`: Relu, and Clip with constant min 0: when a quantized op's output feeds only
 *   the activation, the activation is removed and the op's output takes the activation's range;
 *   the QuantizeLinear's saturation at the zero point (= the dtype's minimum) computes it exactly.
 *
 * full-integer=true adds rules for ops ORT runs in float between DequantizeLinear and QuantizeLinear but an
 * int8-only target (TFLite 2.9: SUB, MEAN, RSQRT, GELU) runs on integers (`FULL_INTEGER_RULES`), and
 * `composite` nodes: the entry of a float pattern quantized at its input and output only (erf-GELU,
 * 1/√x: composites.ts), whose inner values stay float in the QDQ model and which the target runs as one int8 op.
 */
import type { Node } from '@modelpass/ir';

export type QuantRole = 'weighted' | 'own-range' | 'shares-input' | 'fused-activation' | 'composite';

export interface OpRule {
  readonly role: QuantRole;
  /** Inputs that carry activations (the rest are weights, biases, shapes, indices). */
  readonly activationInputs: (node: Node) => readonly number[];
  /** ORT's name for the fused kernel (for statistics and the report). */
  readonly kernel: string;
}

const first = () => [0];
const allInputs = (node: Node) => node.inputs.map((_, i) => i);
/** MatMul of two activations (attention) quantizes both inputs; with a constant B only A. */
const matmulInputs = (node: Node) => (node.inputs[1]?.constant !== undefined ? [0] : [0, 1]);

export const OP_RULES: ReadonlyMap<string, OpRule> = new Map<string, OpRule>([
  ['onnx.Conv', { role: 'weighted', activationInputs: first, kernel: 'QLinearConv' }],
  ['onnx.MatMul', { role: 'weighted', activationInputs: matmulInputs, kernel: 'QLinearMatMul' }],
  ['onnx.Gemm', { role: 'weighted', activationInputs: first, kernel: 'QGemm' }],
  ['onnx.Add', { role: 'own-range', activationInputs: allInputs, kernel: 'QLinearAdd' }],
  ['onnx.Mul', { role: 'own-range', activationInputs: allInputs, kernel: 'QLinearMul' }],
  ['onnx.Concat', { role: 'own-range', activationInputs: allInputs, kernel: 'QLinearConcat' }],
  ['onnx.AveragePool', { role: 'own-range', activationInputs: first, kernel: 'QLinearAveragePool' }],
  ['onnx.GlobalAveragePool', { role: 'own-range', activationInputs: first, kernel: 'QLinearGlobalAveragePool' }],
  ['onnx.Sigmoid', { role: 'own-range', activationInputs: first, kernel: 'QLinearSigmoid' }],
  ['onnx.LeakyRelu', { role: 'own-range', activationInputs: first, kernel: 'QLinearLeakyRelu' }],
  ['onnx.Softmax', { role: 'own-range', activationInputs: first, kernel: 'QLinearSoftmax' }],
  ['onnx.MaxPool', { role: 'shares-input', activationInputs: first, kernel: 'MaxPool (uint8/int8)' }],
  ['onnx.Reshape', { role: 'shares-input', activationInputs: first, kernel: 'Reshape (integers)' }],
  ['onnx.Flatten', { role: 'shares-input', activationInputs: first, kernel: 'Flatten (integers)' }],
  ['onnx.Transpose', { role: 'shares-input', activationInputs: first, kernel: 'Transpose (integers)' }],
  ['onnx.Squeeze', { role: 'shares-input', activationInputs: first, kernel: 'Squeeze (integers)' }],
  ['onnx.Unsqueeze', { role: 'shares-input', activationInputs: first, kernel: 'Unsqueeze (integers)' }],
  ['onnx.Gather', { role: 'shares-input', activationInputs: first, kernel: 'Gather (integers)' }],
  ['onnx.Slice', { role: 'shares-input', activationInputs: first, kernel: 'Slice (integers)' }],
  ['onnx.Expand', { role: 'shares-input', activationInputs: first, kernel: 'Expand (integers)' }],
  ['onnx.Tile', { role: 'shares-input', activationInputs: first, kernel: 'Tile (integers)' }],
  ['onnx.Resize', { role: 'shares-input', activationInputs: first, kernel: 'Resize (uint8/int8)' }],
  ['onnx.Relu', { role: 'fused-activation', activationInputs: first, kernel: 'fused into the producer' }],
  ['onnx.Clip', { role: 'fused-activation', activationInputs: first, kernel: 'fused into the producer' }],
]);

/**
 * full-integer=true only: ops with no ORT integer kernel (ORT runs `DQ → op → Q` in float, the same reals) that
 * TFLite 2.9 runs in int8 (packages/runtime/src/__tests__/tflite-int8-kernels.test.ts): a LayerNorm's Sub and
 * ReduceMean (MEAN keeps its own output range), Tanh; BatchNormalization, PRelu and ConvTranspose (tflite-int8-bn-prelu-deconv).
 */
export const FULL_INTEGER_RULES: ReadonlyMap<string, OpRule> = new Map<string, OpRule>([
  ['onnx.Sub', { role: 'own-range', activationInputs: allInputs, kernel: 'DQ → Sub → Q (float in ORT; TFLite SUB int8)' }],
  ['onnx.ReduceMean', { role: 'own-range', activationInputs: first, kernel: 'DQ → ReduceMean → Q (float in ORT; TFLite MEAN int8)' }],
  // A BERT pooler's tanh: its output takes TANH's fixed int8 parameters (plan.ts), so TFLite needs no requantization.
  ['onnx.Tanh', { role: 'own-range', activationInputs: first, kernel: 'DQ → Tanh → Q (float in ORT; TFLite TANH int8)' }],
  // DenseNet's BatchNormalization after a Concat (fuse-bn folds only into a Conv/Gemm): TFLite runs it as an int8 1×1
  // DEPTHWISE_CONV_2D (the per-channel multiplier as int8 weights, the shift as int32 bias).
  ['onnx.BatchNormalization', { role: 'own-range', activationInputs: first, kernel: 'DQ → BatchNormalization → Q (float in ORT; TFLite DEPTHWISE_CONV_2D int8)' }],
  // The slope is quantized on its own range like an Add's constant operand (eligibility.ts), so ORT and TFLite's PRELU read the same.
  ['onnx.PRelu', { role: 'own-range', activationInputs: allInputs, kernel: 'DQ → PRelu → Q (float in ORT; TFLite PRELU int8)' }],
  ['onnx.ConvTranspose', { role: 'weighted', activationInputs: first, kernel: 'DQ → ConvTranspose → Q (TFLite TRANSPOSE_CONV int8)' }],
]);

/** Rules the plan gave single nodes (the entries of composites), looked up before the op's rule. */
const NODE_RULES = new WeakMap<Node, OpRule>();

/** Gives `node` its own rule (a composite's entry: composites.ts). */
export function setNodeRule(node: Node, rule: OpRule): void {
  NODE_RULES.set(node, rule);
}

/** The rule of `node`: its own (a composite's entry), its op's, or with `fullInteger` a FULL_INTEGER_RULES entry. */
export function ruleOf(node: Node, fullInteger = true): OpRule | undefined {
  return NODE_RULES.get(node) ?? OP_RULES.get(node.op) ?? (fullInteger ? FULL_INTEGER_RULES.get(node.op) : undefined);
}

/** The op types quantize-static knows (for `exclude=` checks and the README). */
export const QUANTIZABLE_OPS: readonly string[] = [...OP_RULES.keys()].map((op) => op.slice('onnx.'.length));
