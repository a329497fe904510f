/**
 * QUANTIZE, DEQUANTIZE and BATCH_MATMUL raised to canonical ops. Quantized tensors keep their quant<>
 * types through the raise (an op reading one computes on its reals, as DESIGN.md has it); the
 * raise ends with materialize-qdq, which spells them as ONNX QuantizeLinear/DequantizeLinear.
 */
import { attrs, Tensor, type Attribute, type QuantParams, type TensorType, type Value } from '@modelpass/ir';
import { dimsOf, rankOfValue, tensorTypeOf } from '../../legalize/lowering-tools.js';
import { CanonicalEmitter, replaceRaised } from '../canonical-emitter.js';
import type { RaiseRule } from '../raise-rule.js';

/** The scale and zero-point constants of a QuantizeLinear/DequantizeLinear spelling `quant` for `dtype` integers. */
function qdqParams(emit: CanonicalEmitter, dtype: TensorType['dtype'], quant: QuantParams, name: string): [Value, Value] {
  const perAxis = quant.axis !== undefined;
  const shape = perAxis ? [quant.scale.length] : [];
  return [emit.constant(Tensor.fromValues('float32', shape, quant.scale), `${name}_scale`), emit.constant(Tensor.fromValues(dtype, shape, quant.zeroPoint), `${name}_zero_point`)];
}

const axisAttribute = (quant: QuantParams): Record<string, Attribute> => (quant.axis !== undefined ? { axis: attrs.int(quant.axis) } : {});

const quantize: RaiseRule = {
  ops: ['tflite.QUANTIZE'],
  targets: ['QuantizeLinear', 'Identity'],
  check(node) {
    const output = tensorTypeOf(node.outputs[0]);
    if (!output?.quant) return 'QUANTIZE needs an output with quantization parameters';
    const input = tensorTypeOf(node.inputs[0]);
    if (!input || (input.dtype !== 'float32' && !input.quant)) return `QUANTIZE of ${input ? `a ${input.dtype}` : 'an untyped'} tensor without quantization parameters (float32 or a quantized tensor expected)`;
    return undefined;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const output = tensorTypeOf(node.outputs[0])!;
    const x = node.input(0);
    // A requantization (quantized → other scale or zero point): Identity from its reals to the new type's integers.
    if (tensorTypeOf(x)!.quant) {
      replaceRaised(node, [emit.op1('Identity', [x], {}, output)]);
      return;
    }
    const [scale, zeroPoint] = qdqParams(emit, output.dtype, output.quant!, 'quantize');
    replaceRaised(node, [emit.op1('QuantizeLinear', [x, scale, zeroPoint], axisAttribute(output.quant!), output)]);
  },
};

const dequantize: RaiseRule = {
  ops: ['tflite.DEQUANTIZE'],
  targets: ['DequantizeLinear', 'Cast'],
  check(node) {
    const input = tensorTypeOf(node.inputs[0]);
    if (input?.dtype === 'float16' || input?.quant) return undefined;
    return `DEQUANTIZE of ${input ? `a ${input.dtype} tensor without quantization parameters` : 'an untyped tensor'} (a quantized integer or float16 tensor expected)`;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const x = node.input(0);
    const input = tensorTypeOf(x)!;
    const type = node.output(0).type;
    if (!input.quant) {
      replaceRaised(node, [emit.op1('Cast', [x], { to: attrs.int(1) }, type)]);
      return;
    }
    const [scale, zeroPoint] = qdqParams(emit, input.dtype, input.quant, 'dequantize');
    replaceRaised(node, [emit.op1('DequantizeLinear', [x, scale, zeroPoint], axisAttribute(input.quant), type)]);
  },
};

/** The last two dims swapped: the permutation of a rank-`rank` Transpose. */
function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
  return perm;
}

const batchMatmul: RaiseRule = {
  ops: ['tflite.BATCH_MATMUL'],
  targets: ['MatMul', 'Transpose'],
  check(node) {
    const adjoint = (node.optionalAttr('adj_x', 'int') ?? 0) === 1 || (node.optionalAttr('adj_y', 'int') ?? 0) === 1;
    if (adjoint && (rankOfValue(node.inputs[0]) === undefined || rankOfValue(node.inputs[1]) === undefined)) return 'adj_x/adj_y need operands of known rank';
    return undefined;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const operand = (value: Value, adjoint: boolean, name: string): Value => {
      if (!adjoint) return value;
      const dims = dimsOf(value)!;
      const perm = swapLastTwo(dims.length);
      const type = tensorTypeOf(value)!;
      return emit.at.op1('onnx.Transpose', [value], { perm: attrs.ints(perm) }, { types: [{ ...type, shape: perm.map((axis) => dims[axis]!) }], name: `${node.name}_${name}` });
    };
    const a = operand(node.input(0), (node.optionalAttr('adj_x', 'int') ?? 0) === 1, 'adjoint_x');
    const b = operand(node.input(1), (node.optionalAttr('adj_y', 'int') ?? 0) === 1, 'adjoint_y');
    replaceRaised(node, [emit.op1('MatMul', [a, b], {}, node.output(0).type)]);
  },
};

export const quantizedRaiseRules: readonly RaiseRule[] = [quantize, dequantize, batchMatmul];

/** `an int8`, `a float16`: the article a dtype takes in a message. */
export function withArticle(dtype: string): string {
  return `${/^[aeio]/.test(dtype) ? 'an' : 'a'} ${dtype}`;
}

