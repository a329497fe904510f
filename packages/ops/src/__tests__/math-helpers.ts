import { GraphBuilder, Tensor, tensorType, type Attribute, type Type } from '@modelpass/ir';
import { createOpRegistry, kernelFor, type RuntimeValue } from '@modelpass/ops';

export interface RunOptions {
  readonly attributes?: Record<string, Attribute>;
  readonly opset?: number;
  readonly outputs?: number;
}

/** Runs one op's reference kernel on tensors (null for omitted inputs). */
export function runOp(op: string, inputs: readonly (Tensor | null)[], options: RunOptions = {}): Tensor[] {
  const b = new GraphBuilder();
  const values = inputs.map((t, i) => (t ? b.input(`in${i}`, tensorType(t.dtype, t.shape)) : null));
  const node = b.node(op, values, options.attributes ?? {}, { outputs: options.outputs ?? 1 });
  const kernel = kernelFor(op);
  if (!kernel) throw new Error(`no kernel for ${op}`);
  return kernel(inputs as RuntimeValue[], { node, opset: options.opset ?? 21, runSubgraph: () => [] }) as Tensor[];
}

/** Runs one op's type inference; `constants` become constant inputs. */
export function inferOp(op: string, inputs: readonly (Type | Tensor | null)[], options: RunOptions = {}): readonly (Type | undefined)[] | undefined {
  const b = new GraphBuilder();
  const values = inputs.map((t, i) => (t === null ? null : t instanceof Tensor ? b.constant(t, `c${i}`) : b.input(`in${i}`, t)));
  const node = b.node(op, values, options.attributes ?? {}, { outputs: options.outputs ?? 1 });
  return createOpRegistry().inferNode(node, b.model({ onnx: options.opset ?? 21 }));
}

export const f32 = (shape: number[], values: number[]) => Tensor.fromValues('float32', shape, values);
export const i64 = (shape: number[], values: (number | bigint)[]) => Tensor.fromValues('int64', shape, values.map((v) => BigInt(v)));
export const values = (t: Tensor) => Array.from(t.data() as ArrayLike<number | bigint>);
