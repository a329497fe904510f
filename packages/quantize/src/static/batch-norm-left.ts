import type { Node, Value } from '@modelpass/ir';

const FOLDS_INTO = new Set(['onnx.Conv', 'onnx.Gemm']);

function isConstant(value: Value | null | undefined): boolean {
  return value !== null && value !== undefined && (value.constant !== undefined || value.producer?.op === 'onnx.Constant');
}

/**
 * Why fuse-bn left `node` (a BatchNormalization) standalone, as a hint: computed parameters (simplify
 * folds them), a producer it cannot fold into (a ConvTranspose, a Concat, a graph input), or a
 * producer whose output other nodes also read.
 */
export function whyBatchNormStays(node: Node): string {
  if (!node.inputs.slice(1, 5).every(isConstant)) {
    return 'its scale, bias, mean or variance is computed: run simplify first (pipeline `simplify,quantize-static{…}`) so they fold';
  }
  const input = node.inputs[0];
  const producer = input?.producer;
  if (!producer) return `it reads graph input '${input?.name ?? '?'}', not a Conv or Gemm output`;
  if (!FOLDS_INTO.has(producer.op)) return `it follows ${producer.op.replace(/^onnx\./, '')} '${producer.name}', which fuse-bn folds into only for Conv and Gemm`;
  if (input!.useCount > 1) return `the output of ${producer.op.replace(/^onnx\./, '')} '${producer.name}' is also read by other nodes, so its weights cannot absorb the normalization`;
  return `fuse-bn left it after ${producer.op.replace(/^onnx\./, '')} '${producer.name}' (run with --debug for its reason)`;
}
