import { attrs, Builder, isTensorType, Tensor, tensorType, type Graph, type Node, type TensorType, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import { dequantizeTensor, quantOf } from './quant-values.js';

/**
 * A BatchNormalization parameter's reals: a float32 constant, or one quantize-static stored as integers behind a
 * DequantizeLinear (its large float-only constants, float-constants.ts), dequantized as ORT does.
 */
function realParameter(input: Value | null | undefined): number[] | undefined {
  const tensor = constantOf(input);
  if (!tensor) return undefined;
  if (tensor.quant) return dequantizeTensor(tensor).toNumbers();
  return tensor.dtype === 'float32' ? tensor.toNumbers() : undefined;
}

/**
 * A BatchNormalization fuse-bn could not fold (DenseNet's, after a Concat) quantized at its input and output
 * (quantize-static{full-integer=true}): per channel it is y = a·x + b with a = γ/√(var + ε), b = β − mean·a, which is
 * a depthwise 1×1 Conv — TFLite's int8 DEPTHWISE_CONV_2D with per-channel int8 weights and an int32 bias, one
 * requantization (MUL then ADD would round twice, through an intermediate no calibration measured). Each a is stored
 * as ±127 with scale |a|/127, so the multiplier is a itself (to float32); finish-int8 turns b into the int32 bias at
 * x scale · |a|/127. Constant parameters only; inputs of rank 3 or 4 directly, others (static) through a RESHAPE to
 * [N, C, rest] and back. What is left goes to the int8 checks, which name it. Returns the nodes rewritten.
 */
export function batchNormsAsInt8DepthwiseConvs(graph: Graph): number {
  let count = 0;
  for (const node of graph.nodeList()) {
    if (node.op !== 'onnx.BatchNormalization' || node.outputs.slice(1).some((output) => output?.hasUses)) continue;
    const x = node.inputs[0];
    const y = node.outputs[0];
    if (!x || !y || x.isConstant || !quantOf(x) || !quantOf(y) || !isTensorType(x.type)) continue;
    const shape = x.type.shape;
    const rank = shape?.length ?? 0;
    // Other ranks (BatchNorm1d on [N, C], BatchNorm3d): a RESHAPE to [N, C, rest] around the Conv, when the dims are static.
    const reshaped = rank !== 3 && rank !== 4;
    if (reshaped && (rank < 2 || !shape!.every((d) => typeof d === 'number'))) continue;
    const parameters = node.inputs.slice(1, 5).map((input) => realParameter(input));
    if (parameters.some((p) => !p)) continue;
    const [gamma, beta, mean, variance] = parameters as [number[], number[], number[], number[]];
    const channels = gamma.length;
    if (![beta, mean, variance].every((values) => values.length === channels)) continue;
    const epsilon = node.optionalAttr('epsilon', 'float') ?? 1e-5;
    const multipliers = gamma.map((g, c) => Math.fround(g / Math.sqrt(variance[c]! + epsilon)));
    const scales = multipliers.map((a) => (a === 0 ? 1 : Math.fround(Math.abs(a) / 127)));
    const codes = multipliers.map((a) => Math.sign(a) * 127);
    const shifts = multipliers.map((a, c) => Math.fround(beta[c]! - mean[c]! * a));
    const unit = new Array<number>(reshaped ? 1 : rank - 2).fill(1);
    const at = Builder.before(node);
    const weight = at.constant(Tensor.fromValues('int8', [channels, 1, ...unit], codes, { scale: scales, zeroPoint: scales.map(() => 0), axis: 0, bits: 8 }), `${node.name}_multiplier`);
    const bias = at.constant(Tensor.fromValues('float32', [channels], shifts), `${node.name}_shift`);
    const dims = shape as number[];
    const rows = reshaped ? [dims[0]!, dims[1]!, dims.slice(2).reduce((n, d) => n * d, 1)] : dims;
    const reshape = (value: Value, to: readonly number[], type: TensorType, name: string): Value =>
      at.op1('onnx.Reshape', [value, at.constant(Tensor.fromValues('int64', [to.length], to.map((d) => BigInt(d))), `${name}_shape`)], {}, { types: [type], name });
    const input = reshaped ? reshape(x, rows, tensorType(x.type.dtype, rows, x.type.quant), `${node.name}_rows`) : x;
    const outType = y.type as TensorType;
    const convType = reshaped ? tensorType(outType.dtype, rows, outType.quant) : outType;
    const conv = at.op1('onnx.Conv', [input, weight, bias], { group: attrs.int(channels), kernel_shape: attrs.ints(unit) }, { types: [convType], name: `${node.name}_depthwise` });
    y.replaceAllUsesWith(reshaped ? reshape(conv, dims, outType, `${node.name}_restored`) : conv);
    node.erase();
    count++;
  }
  return count;
}

/** Whether `node` is a BatchNormalization `batchNormsAsInt8DepthwiseConvs` left (for the int8 check's message). */
export function int8BatchNormProblem(node: Node): string {
  const type = node.inputs[0]?.type;
  const shape = type && isTensorType(type) ? type.shape : null;
  if (node.outputs.slice(1).some((output) => output?.hasUses)) return 'an int8 BatchNormalization in training mode (its running mean/variance outputs are read) has no TFLite lowering';
  if (!shape || shape.length < 2 || (shape.length !== 3 && shape.length !== 4 && !shape.every((d) => typeof d === 'number'))) {
    return `an int8 BatchNormalization needs an input of rank 3 or 4 (N, C, spatial…), or of static dims (reshaped to [N, C, rest]); its input is ${shape ? `[${shape.map((d) => d ?? '?').join(',')}]` : 'of unknown shape'}`;
  }
  return 'an int8 BatchNormalization needs constant scale, bias, mean and variance (float32, or integers behind a DequantizeLinear) of one value per channel (run simplify first)';
}
