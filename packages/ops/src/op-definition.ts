import { defineOp, type Graph, type Node, type OpSchema, type OpSchemaInit, type Tensor } from '@modelpass/ir';
import { withTypeConstraints } from './verify/type-constraint-check.js';

/**
 * What flows between kernels in the reference interpreter: a tensor, a sequence of tensors
 * (ONNX `seq(tensor)`), or `null` for an absent optional value.
 */
export type RuntimeValue = Tensor | readonly Tensor[] | null;

export interface KernelContext {
  readonly node: Node;
  /** The model's opset version for the node's dialect (the newest we know when unknown). */
  readonly opset: number;
  /** Runs a subgraph (If branch, Loop body) with the given inputs; outer values are visible. */
  runSubgraph(graph: Graph, inputs: readonly RuntimeValue[]): RuntimeValue[];
}

/**
 * A reference kernel: computes a node's outputs from its input values. Kernels are plain
 * TypeScript, written for clarity and exactness, not speed; they back constant folding, the
 * reference interpreter and tests.
 */
export type Kernel = (inputs: readonly RuntimeValue[], context: KernelContext) => RuntimeValue[];

export interface CanonicalOpInit extends OpSchemaInit {
  readonly kernel?: Kernel;
}

/** An op of the canonical set: its schema (with type inference) and its reference kernel. */
export interface CanonicalOp {
  readonly schema: OpSchema;
  readonly kernel: Kernel | undefined;
}

/** Defines a canonical op; its `verify` also checks operand types against ONNX's type constraints. */
export function defineCanonicalOp(init: CanonicalOpInit): CanonicalOp {
  const { kernel, ...schema } = init;
  return Object.freeze({ schema: defineOp({ ...schema, verify: withTypeConstraints(schema.verify, schema.inputs) }), kernel });
}
