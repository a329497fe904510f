import { type Tensor } from '@modelpass/ir';
import { defineCanonicalOp, type CanonicalOp, type KernelContext } from '../op-definition.js';
import { allocateElements, readElements, tensorFromElements } from '../util/elements.js';
import { broadcastInference } from '../util/inference.js';
import { inputTensors, opError } from '../util/kernel-io.js';
import { broadcastIndexMap, broadcastStaticShapes } from '../util/shape.js';
import { elementClassOf } from './element-class.js';
import { requireSameDType } from './elementwise.js';
import { verifyBroadcast } from '../verify/structure-checks.js';

type Accumulate<T> = (accumulator: T, value: T) => T;

interface VariadicFunctions {
  readonly number: Accumulate<number>;
  readonly bigint: Accumulate<bigint>;
  /** Applied to the number result with the operand count (Mean divides). */
  readonly finishNumber?: (value: number, count: number) => number;
  readonly finishBigInt?: (value: bigint, count: number) => bigint;
}

/** Folds all operands elementwise with multidirectional broadcasting. */
function foldOperands(tensors: readonly Tensor[], functions: VariadicFunctions, context: KernelContext): Tensor {
  if (tensors.length === 0) throw opError(context.node, 'needs at least one input');
  requireSameDType(tensors, context);
  const dtype = tensors[0]!.dtype;
  const cls = elementClassOf(dtype);
  if (cls === 'string' || cls === 'bool') throw opError(context.node, `has no reference kernel for element type ${dtype}`);
  const shape = broadcastStaticShapes(tensors.map((t) => t.shape), context.node);
  const maps = tensors.map((t) => broadcastIndexMap(t.shape, shape));
  const data = tensors.map((t) => readElements(t) as ArrayLike<number | bigint>);
  const count = maps[0]!.length;
  const out = allocateElements(dtype, count) as unknown as (number | bigint)[];
  for (let i = 0; i < count; i++) {
    if (cls === 'bigint') {
      let acc = data[0]![maps[0]![i]!] as bigint;
      for (let k = 1; k < tensors.length; k++) acc = functions.bigint(acc, data[k]![maps[k]![i]!] as bigint);
      out[i] = functions.finishBigInt ? functions.finishBigInt(acc, tensors.length) : acc;
    } else {
      let acc = data[0]![maps[0]![i]!] as number;
      for (let k = 1; k < tensors.length; k++) acc = functions.number(acc, data[k]![maps[k]![i]!] as number);
      out[i] = functions.finishNumber ? functions.finishNumber(acc, tensors.length) : acc;
    }
  }
  return tensorFromElements(dtype, shape, out as unknown as ArrayLike<number>);
}

function defineVariadicOp(op: string, summary: string, functions: VariadicFunctions): CanonicalOp {
  return defineCanonicalOp({
    op,
    summary,
    inputs: [{ name: 'data_0', variadic: true, minCount: 1 }],
    outputs: [{ name: op === 'onnx.Max' ? 'max' : op === 'onnx.Min' ? 'min' : op === 'onnx.Sum' ? 'sum' : 'mean' }],
    attributes: { consumed_inputs: { kind: 'ints', doc: 'opset 1 legacy, ignored' } },
    inferTypes: broadcastInference(),
    verify: verifyBroadcast(),
    kernel: (inputs, context) => [foldOperands(inputTensors(inputs, context), functions, context)],
  });
}

/** NaN wins in Max and Min, as in ONNX Runtime. */
const pickNumber = (better: (a: number, b: number) => boolean) => (a: number, b: number) => (Number.isNaN(a) || better(a, b) ? a : b);

export const max = defineVariadicOp('onnx.Max', 'Elementwise maximum of all inputs, with broadcasting', {
  number: pickNumber((a, b) => a >= b || Number.isNaN(a)),
  bigint: (a, b) => (a >= b ? a : b),
});

export const min = defineVariadicOp('onnx.Min', 'Elementwise minimum of all inputs, with broadcasting', {
  number: pickNumber((a, b) => a <= b || Number.isNaN(a)),
  bigint: (a, b) => (a <= b ? a : b),
});

export const sum = defineVariadicOp('onnx.Sum', 'Elementwise sum of all inputs, with broadcasting', {
  number: (a, b) => a + b,
  bigint: (a, b) => a + b,
});

export const mean = defineVariadicOp('onnx.Mean', 'Elementwise mean of all inputs, with broadcasting', {
  number: (a, b) => a + b,
  bigint: (a, b) => a + b,
  finishNumber: (value, count) => value / count,
  finishBigInt: (value, count) => value / BigInt(count),
});

export const variadicOps: readonly CanonicalOp[] = [max, min, sum, mean];
