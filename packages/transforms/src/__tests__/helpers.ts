import { Tensor, type Model, type Value } from '@modelpass/ir';
import { kernelFor, type RuntimeValue } from '@modelpass/ops';
import type { OptionSpecs, Pass, PassContext } from '@modelpass/pass-manager';
import type { RewritePattern } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';

export interface PassRun {
  statistics: Map<string, number>;
  debug: string[];
}

/** Runs a pass with a minimal context (defaults filled in), recording statistics and debug lines. */
export async function runPass(pass: Pass<OptionSpecs>, model: Model, options: Record<string, unknown> = {}, patterns: RewritePattern[] = []): Promise<PassRun> {
  const run: PassRun = { statistics: new Map(), debug: [] };
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(pass.options)) if (spec.default !== undefined) values[name] = spec.default;
  const context = {
    options: { ...values, ...options },
    registry: createOpRegistry(),
    passName: pass.name,
    patterns,
    statistic(name: string, delta = 1) {
      if (!pass.statistics.includes(name)) throw new Error(`pass ${pass.name} reported undeclared statistic ${name}`);
      run.statistics.set(name, (run.statistics.get(name) ?? 0) + delta);
    },
    analysis() {
      throw new Error('no analyses in tests');
    },
    report() {},
    debug(message: string) {
      run.debug.push(message);
    },
    signal: new AbortController().signal,
    preserveAll: () => ({ all: true as const }),
    preserveNone: () => ({ all: false as const, analyses: new Set<string>() }),
    preserve: (analyses: readonly string[]) => ({ all: false as const, analyses: new Set(analyses) }),
  } as unknown as PassContext<OptionSpecs>;
  await pass.run(model, context);
  return run;
}

/** Evaluates a straight-line model with the reference kernels (the test referee before ORT). */
export function evaluate(model: Model, inputs: Record<string, Tensor>): Tensor[] {
  const env = new Map<Value, RuntimeValue>();
  for (const value of model.graph.inputs) env.set(value, inputs[value.name]!);
  for (const value of model.graph.constants) if (value.constant) env.set(value, value.constant);
  for (const node of model.graph.nodes()) {
    const kernel = kernelFor(node.op);
    if (!kernel) throw new Error(`no kernel for ${node.op}`);
    const outputs = kernel(
      node.inputs.map((v) => (v ? env.get(v)! : null)),
      { node, opset: model.opset('onnx') ?? 17, runSubgraph: () => { throw new Error('no subgraphs'); } },
    );
    node.outputs.forEach((v, i) => v && env.set(v, outputs[i]!));
  }
  return model.graph.outputs.map((v) => env.get(v) as Tensor);
}

/** Deterministic pseudo-random floats in [-1, 1). */
export function randomTensor(shape: number[], seed = 1, offset = 0, scale = 1): Tensor {
  let state = seed >>> 0 || 1;
  const count = shape.reduce((n, d) => n * d, 1);
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    state = (state * 1664525 + 1013904223) >>> 0;
    values.push(offset + scale * ((state / 2 ** 32) * 2 - 1));
  }
  return Tensor.fromValues('float32', shape, values);
}

/** max |a - b| ≤ 1e-5 · max(1, max |a|). */
export function expectClose(a: Tensor, b: Tensor, tolerance = 1e-5): void {
  const x = a.toNumbers();
  const y = b.toNumbers();
  if (x.length !== y.length) throw new Error(`length ${x.length} vs ${y.length}`);
  const scale = Math.max(1, ...x.map(Math.abs));
  const diff = Math.max(0, ...x.map((v, i) => Math.abs(v - y[i]!)));
  if (!(diff <= tolerance * scale)) throw new Error(`max |a-b| = ${diff} above ${tolerance * scale}`);
}

export function opsOf(model: Model): string[] {
  return [...model.graph.nodes()].map((n) => n.opType);
}
