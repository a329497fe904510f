import { Tensor, type Dim, type Node, type Value } from '@modelpass/ir';
import { transposeTensor } from '@modelpass/transforms';
import { constantOf, numbersOf } from '../constant-values.js';
import { quantOf, sameQuant } from '../quantized/quant-values.js';
import type { LoweringContext, LoweringRule } from '../lowering-rule.js';
import { reshapeTarget } from './compose.js';
import { dimsOf, rankOfValue, replaceNode, tensorTypeOf, TfliteEmitter, typeWithShape } from '../lowering-tools.js';

function scaled(tensor: Tensor, factor: number): Tensor {
  if (factor === 1) return tensor;
  return Tensor.fromValues('float32', tensor.shape, tensor.toNumbers().map((v) => v * factor));
}

/** A bias that FULLY_CONNECTED can take: a constant scalar, [N] or [1, N], as float32 [N]. */
function biasVector(value: Value | null, units: number, beta: number): Tensor | undefined {
  const tensor = constantOf(value);
  // An int32 quant<> bias (int8 models) passes as is: the int8 lowering requantizes it to input scale · weight scale.
  if (tensor && tensor.dtype === 'int32' && tensor.quant && beta === 1 && tensor.size === units && tensor.rank === 1) return tensor;
  if (!tensor || tensor.dtype !== 'float32') return undefined;
  if (tensor.size === 1) return Tensor.fromValues('float32', [units], new Array<number>(units).fill(tensor.toNumbers()[0]! * beta));
  if (tensor.size === units && (tensor.rank === 1 || (tensor.rank === 2 && tensor.shape[0] === 1))) return scaled(tensor.reshape([units]), beta);
  return undefined;
}

const gemm: LoweringRule = {
  ops: ['onnx.Gemm'],
  stage: 'lower',
  targets: ['FULLY_CONNECTED', 'BATCH_MATMUL', 'TRANSPOSE', 'MUL', 'ADD'],
  check(node) {
    if (rankOfValue(node.inputs[0]) !== 2) return 'Gemm needs a rank-2 input with a known rank';
    const weight = constantOf(node.inputs[1]);
    if (weight && weight.dtype !== 'float32' && !(weight.dtype === 'int8' && weight.quant)) return `weights of dtype ${weight.dtype} are not supported yet (float32 only)`;
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const alpha = node.optionalAttr('alpha', 'float') ?? 1;
    const beta = node.optionalAttr('beta', 'float') ?? 1;
    const transB = (node.optionalAttr('transB', 'int') ?? 0) === 1;
    const outType = node.output(0).type;
    let a = node.input(0);
    if ((node.optionalAttr('transA', 'int') ?? 0) === 1) {
      const dims = dimsOf(a)!;
      a = emit.op1('TRANSPOSE', [a, emit.int32([1, 0], [2], 'perm')], {}, typeWithShape(a.type, [dims[1]!, dims[0]!]));
    }
    const weight = constantOf(node.inputs[1]);
    let y: Value;
    let biasDone = false;
    if (weight) {
      const matrix = scaled(transB ? weight : transposeTensor(weight, [1, 0]), alpha);
      const units = matrix.shape[0]!;
      const bias = node.inputs[2] ? biasVector(node.inputs[2], units, beta) : undefined;
      biasDone = bias !== undefined || !node.inputs[2];
      y = emit.op1('FULLY_CONNECTED', [a, emit.constant(matrix, 'weights'), bias ? emit.constant(bias, 'bias') : null], { fused_activation_function: 'NONE', keep_num_dims: 0 }, outType);
    } else {
      y = emit.op1('BATCH_MATMUL', [a, node.input(1)], { adj_x: 0, adj_y: transB ? 1 : 0 }, outType);
      biasDone = !node.inputs[2];
      if (alpha !== 1) y = emit.op1('MUL', [y, emit.constant(Tensor.scalar('float32', alpha), 'alpha')], { fused_activation_function: 'NONE' }, outType);
    }
    if (!biasDone) {
      let c = node.input(2);
      if (beta !== 1) c = emit.op1('MUL', [c, emit.constant(Tensor.scalar('float32', beta), 'beta')], { fused_activation_function: 'NONE' }, c.type);
      y = emit.op1('ADD', [y, c], { fused_activation_function: 'NONE' }, outType);
    }
    replaceNode(node, [y]);
  },
};

/**
 * A TRANSPOSE (already lowered, or still canonical) that only swaps the last two axes of a float32 operand
 * of rank ≥ 2 (or an int8 one with its input's parameters: the int8 attention keys, attention-heads-int8.ts): BATCH_MATMUL reads its input with adj_x/adj_y instead. Gives [operand to read, whether it is swapped].
 */
function beforeLastTwoSwapped(value: Value): [Value, boolean] {
  const producer = value.producer;
  if (!producer || value.isGraphOutput) return [value, false];
  let perm: number[] | undefined;
  if (producer.op === 'tflite.TRANSPOSE') perm = numbersOf(producer.inputs[1]);
  else if (producer.op === 'onnx.Transpose') {
    const attribute = producer.getAttribute('perm');
    perm = attribute?.kind === 'ints' ? attribute.value.map(Number) : undefined;
  }
  const rank = perm?.length ?? 0;
  // float32, or int8 moved as it is (the transpose's input and output share scale and zero point: the same integers).
  const int8Moved = tensorTypeOf(value)?.dtype === 'int8' && !!quantOf(value) && sameQuant(quantOf(value), quantOf(producer.inputs[0]));
  if (!perm || rank < 2 || (tensorTypeOf(value)?.dtype !== 'float32' && !int8Moved)) return [value, false];
  const swapsLastTwo = perm.every((axis, i) => axis === (i === rank - 2 ? rank - 1 : i === rank - 1 ? rank - 2 : i));
  return swapsLastTwo ? [producer.input(0), true] : [value, false];
}

/**
 * MatMul with a vector operand (numpy's matmul, as ONNX defines it): a vector A [K] is the matrix [1, K], a vector
 * B [K] the matrix [K, 1], and the unit dim they add is dropped from the result. Written as RESHAPEs around an
 * onnx.MatMul of matrices, which the next lowering round turns into FULLY_CONNECTED or BATCH_MATMUL.
 */
function lowerVectorMatMul(node: Node, context: LoweringContext): void {
  const emit = new TfliteEmitter(node, context);
  const [a, b] = [node.input(0), node.input(1)];
  const [aDims, bDims] = [dimsOf(a)!, dimsOf(b)!];
  const asMatrix = (value: Value, dims: readonly Dim[], rowVector: boolean, name: string): Value => {
    if (dims.length >= 2) return value;
    const shape = rowVector ? [1, dims[0]!] : [dims[0]!, 1];
    const constant = constantOf(value);
    // A constant vector stays a constant (a weight: FULLY_CONNECTED takes it).
    if (constant && typeof dims[0] === 'number') return emit.constant(constant.reshape(shape as number[]), name);
    return emit.op1('RESHAPE', [value, emit.int32(shape.map((d) => (typeof d === 'number' ? d : -1)), [2], name)], {}, typeWithShape(value.type, shape));
  };
  const outDims = dimsOf(node.outputs[0])!;
  // The result of the matrices: the output with the dropped unit dims put back.
  const productDims = [...outDims];
  if (bDims.length === 1) productDims.push(1);
  if (aDims.length === 1) productDims.splice(productDims.length - 1, 0, 1);
  const product = emit.at.op1('onnx.MatMul', [asMatrix(a, aDims, true, 'a_matrix'), asMatrix(b, bDims, false, 'b_matrix')], {}, { types: [typeWithShape(node.output(0).type, productDims)], name: `${node.name}_matrices` });
  replaceNode(node, [emit.op1('RESHAPE', [product, emit.int32(reshapeTarget(outDims)!, [outDims.length], 'shape')], {}, node.output(0).type)]);
}

const matMul: LoweringRule = {
  ops: ['onnx.MatMul'],
  stage: 'lower',
  targets: ['FULLY_CONNECTED', 'BATCH_MATMUL', 'RESHAPE'],
  check(node) {
    const a = rankOfValue(node.inputs[0]);
    const b = rankOfValue(node.inputs[1]);
    if (a === undefined || b === undefined) return 'MatMul needs the ranks of both inputs (run shape inference first)';
    if (a < 1 || b < 1) return 'MatMul of a scalar is not defined';
    if (a < 2 || b < 2) {
      const out = dimsOf(node.outputs[0]);
      if (!out || !reshapeTarget(out)) return 'MatMul of a vector (rank 1) needs an output shape with at most one unknown dim';
    }
    return undefined;
  },
  lower(node: Node, context) {
    if (rankOfValue(node.inputs[0])! < 2 || rankOfValue(node.inputs[1])! < 2) {
      lowerVectorMatMul(node, context);
      return;
    }
    const emit = new TfliteEmitter(node, context);
    const weight = constantOf(node.inputs[1]);
    const outType = node.output(0).type;
    let y: Value;
    if (weight && weight.rank === 2 && (weight.dtype === 'float32' || (weight.dtype === 'int8' && weight.quant))) {
      const keep = rankOfValue(node.inputs[0])! > 2 ? 1 : 0;
      y = emit.op1('FULLY_CONNECTED', [node.input(0), emit.constant(transposeTensor(weight, [1, 0]), 'weights'), null], { fused_activation_function: 'NONE', keep_num_dims: keep }, outType);
    } else {
      const [a, adjX] = beforeLastTwoSwapped(node.input(0));
      const [b, adjY] = beforeLastTwoSwapped(node.input(1));
      y = emit.op1('BATCH_MATMUL', [a, b], { adj_x: adjX ? 1 : 0, adj_y: adjY ? 1 : 0 }, outType);
      const swapped = [adjX ? node.input(0) : undefined, adjY ? node.input(1) : undefined];
      replaceNode(node, [y]);
      // The swaps BATCH_MATMUL now does itself: gone when nothing else reads them.
      for (const value of swapped) {
        if (value && !value.hasUses && !value.isGraphOutput && value.producer) value.producer.erase();
      }
      return;
    }
    replaceNode(node, [y]);
  },
};

export const matmulRules: readonly LoweringRule[] = [gemm, matMul];
