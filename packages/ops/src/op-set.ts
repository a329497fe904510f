import { OpRegistry, type OpSchema } from '@modelpass/ir';
import { mathOps } from './math/index.js';
import { nnOps } from './nn/index.js';
import { rnnOps } from './rnn/index.js';
import type { CanonicalOp, Kernel } from './op-definition.js';

/** Every op of the canonical set (ONNX semantics, dialect `onnx`). */
export const canonicalOps: readonly CanonicalOp[] = [...mathOps, ...nnOps, ...rnnOps];

const kernels = new Map<string, Kernel>();
for (const op of canonicalOps) if (op.kernel) kernels.set(op.schema.op, op.kernel);

export function canonicalSchemas(): OpSchema[] {
  return canonicalOps.map((op) => op.schema);
}

/** A fresh registry holding the canonical op set; extend it with plugins' ops. */
export function createOpRegistry(): OpRegistry {
  return new OpRegistry().register(canonicalSchemas(), '@modelpass/ops');
}

/** The reference kernel of an op, when it has one. */
export function kernelFor(op: string): Kernel | undefined {
  return kernels.get(op);
}
