/**
 * Cost rules for quantized ops, counted the way their float counterparts are so a model's FLOPs
 * before and after quantization compare (conventions in cost-rules.ts):
 * - QLinearConv, ConvInteger: like Conv (outputs · (C/group)·k₁·k₂… MACs, 1 FLOP per output for a bias).
 * - QLinearMatMul, MatMulInteger, MatMulIntegerToFloat, DynamicQuantizeMatMul: like MatMul (outputs ·
 *   A's last dim); QGemm like Gemm (K by transA, a C input adds 1 FLOP per output); MatMulNBits like
 *   MatMul with K from A (the weight is dequantized inside the product, as MatMul reads its weight).
 *   A bias input adds 1 FLOP per output.
 * - QLinearAdd/Mul/Sigmoid/LeakyRelu: 1 FLOP per output element; QLinearSoftmax 3 like Softmax;
 *   QLinearGlobalAveragePool 1 per input element; QLinearAveragePool 1 per window element per output;
 *   QLinearConcat moves data (0).
 * - DynamicQuantizeLinear: 2 FLOPs per element (the range reduction and the quantization);
 * - DequantizeLinear of a constant (a QDQ weight or bias): 0 FLOPs — runtimes fold it or fuse it
 *   into the consumer, and analyzeCost credits its constants to the node that reads its output;
 *   of an activation: 1 FLOP per element, like any elementwise op.
 *   DynamicQuantizeMatMul adds the same 2 per element of A to its MACs.
 */
import type { CostContext, CostRule, CostRules } from './cost-rules.js';
import { elementCountOf } from './cost-rules.js';

const NEEDS_SHAPES = 'its operand or result shapes are not static';
const MS = 'com.microsoft';

const hasInput = (context: CostContext, index: number): boolean => context.node.inputs[index] !== null && context.node.inputs[index] !== undefined;

/** A convolution whose weight is input `weight` and bias input `bias` (when it has one). */
function convolution(weight: number, bias?: number): CostRule {
  return (context) => {
    const out = context.outputShape(0);
    const w = context.inputShape(weight);
    if (!out || !w || w.length < 2) return NEEDS_SHAPES;
    const macs = elementCountOf(out) * elementCountOf(w.slice(1));
    const biasFlops = bias !== undefined && hasInput(context, bias) ? elementCountOf(out) : 0;
    return { macs, flops: 2 * macs + biasFlops };
  };
}

/** A numpy matmul with A at input 0; `bias` adds one FLOP per output; `perElementOfA` FLOPs for each A element. */
function matrixProduct(options: { bias?: number; perElementOfA?: number } = {}): CostRule {
  return (context) => {
    const a = context.inputShape(0);
    const out = context.outputShape(0);
    if (!a || a.length === 0 || !out) return NEEDS_SHAPES;
    const macs = elementCountOf(out) * a[a.length - 1]!;
    const biasFlops = options.bias !== undefined && hasInput(context, options.bias) ? elementCountOf(out) : 0;
    return { macs, flops: 2 * macs + biasFlops + (options.perElementOfA ?? 0) * elementCountOf(a) };
  };
}

/** QGemm: Gemm's count with A at 0 and C at 6. */
const qgemm: CostRule = (context) => {
  const a = context.inputShape(0);
  const out = context.outputShape(0);
  if (!a || a.length !== 2 || !out) return NEEDS_SHAPES;
  const k = context.node.attr('transA', 'int', 0) ? a[0]! : a[1]!;
  const macs = elementCountOf(out) * k;
  return { macs, flops: 2 * macs + (hasInput(context, 6) ? elementCountOf(out) : 0) };
};

function perOutputElement(flopsPerElement: number): CostRule {
  return (context) => {
    const out = context.outputShape(0);
    return out ? { macs: 0, flops: flopsPerElement * elementCountOf(out) } : NEEDS_SHAPES;
  };
}

function perInputElement(flopsPerElement: number): CostRule {
  return (context) => {
    const input = context.inputShape(0);
    return input ? { macs: 0, flops: flopsPerElement * elementCountOf(input) } : NEEDS_SHAPES;
  };
}

const pool: CostRule = (context) => {
  const out = context.outputShape(0);
  const kernel = context.node.optionalAttr('kernel_shape', 'ints');
  if (!out) return NEEDS_SHAPES;
  if (!kernel) return 'it has no kernel_shape';
  return { macs: 0, flops: elementCountOf(out) * elementCountOf(kernel) };
};

/** DequantizeLinear: free for a constant input (folded or fused into the consumer), else elementwise. */
const dequantizeLinear: CostRule = (context) => {
  if (context.node.inputs[0]?.isConstant) return { macs: 0, flops: 0 };
  const out = context.outputShape(0);
  return out ? { macs: 0, flops: elementCountOf(out) } : NEEDS_SHAPES;
};

/** Adds the rules for ONNX's integer ops and ONNX Runtime's quantized contrib ops to `rules`. */
export function registerQuantizedCostRules(rules: CostRules): CostRules {
  return rules
    .register('onnx.QLinearConv', convolution(3, 8))
    .register('onnx.ConvInteger', convolution(1))
    .register('onnx.QLinearMatMul', matrixProduct())
    .register('onnx.MatMulInteger', matrixProduct())
    .register('onnx.DynamicQuantizeLinear', perInputElement(2))
    .register('onnx.DequantizeLinear', dequantizeLinear)
    .register(`${MS}.MatMulIntegerToFloat`, matrixProduct({ bias: 6 }))
    .register(`${MS}.DynamicQuantizeMatMul`, matrixProduct({ bias: 4, perElementOfA: 2 }))
    .register(`${MS}.MatMulNBits`, matrixProduct({ bias: 5 }))
    .register(`${MS}.QGemm`, qgemm)
    .register(`${MS}.QLinearAdd`, perOutputElement(1))
    .register(`${MS}.QLinearMul`, perOutputElement(1))
    .register(`${MS}.QLinearSigmoid`, perOutputElement(1))
    .register(`${MS}.QLinearLeakyRelu`, perOutputElement(1))
    .register(`${MS}.QLinearSoftmax`, perOutputElement(3))
    .register(`${MS}.QLinearGlobalAveragePool`, perInputElement(1))
    .register(`${MS}.QLinearAveragePool`, pool)
    .register(`${MS}.QLinearConcat`, () => ({ macs: 0, flops: 0 }));
}
