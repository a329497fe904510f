import { OpRegistry, type OpSchema } from '@modelpass/ir';
import { mathOps } from './math/index.js';
import { nnOps } from './nn/index.js';
import { rnnOps } from './rnn/index.js';
import { contribSchemas, MICROSOFT_DIALECT } from './contrib/index.js';
import type { CanonicalOp, Kernel } from './op-definition.js';
import { propagatedValues } from './verify/propagated-values.js';

/** Every op of the canonical set (ONNX semantics, dialect `onnx`). */
export const canonicalOps: readonly CanonicalOp[] = [...mathOps, ...nnOps, ...rnnOps];

const kernels = new Map<string, Kernel>();
for (const op of canonicalOps) if (op.kernel) kernels.set(op.schema.op, op.kernel);

export function canonicalSchemas(): OpSchema[] {
  return canonicalOps.map((op) => op.schema);
}

/** The canonical registry, built on first use; `createOpRegistry` hands out clones of it and never changes it. */
let canonicalRegistry: OpRegistry | undefined;

/**
 * A fresh registry holding the canonical op set and the contrib ops (`com.microsoft`); extend it with plugins' ops.
 * A clone of one registry built once per process: it shares that registry's tables until it is extended
 * (copy-on-write), so every conversion's environment does not insert the few hundred schemas again.
 */
export function createOpRegistry(): OpRegistry {
  // ONNX Runtime's com.microsoft ops our passes write are known; its other ops stay opaque (open dialect).
  canonicalRegistry ??= new OpRegistry()
    .register(canonicalSchemas(), '@modelpass/ops')
    .register(contribSchemas(), '@modelpass/ops')
    .markOpenDialect(MICROSOFT_DIALECT)
    // verify-each's input check, wherever a PassManager runs with this op set, sees the data the model computes.
    .setKnownValuesProvider((model, registry) => propagatedValues(model, { registry }));
  return canonicalRegistry.clone();
}

/** The reference kernel of an op, when it has one. */
export function kernelFor(op: string): Kernel | undefined {
  return kernels.get(op);
}
