/**
 * The reference interpreter of `@modelpass/ops` behind the `Engine` interface: plain TypeScript
 * kernels, slow but exact, the second opinion next to ONNX Runtime.
 */
import { ModelpassError, Tensor } from '@modelpass/ir';
import { runReference } from '@modelpass/ops';
import { feedsToMap, type Engine, type Feeds, type ModelSource, type RunOptions } from './engine.js';
import { messageOf, runtimeError } from './errors.js';
import { describeModelSource, loadModel } from './model-source.js';
import { refuseTypeConstraintViolations } from './reference-type-check.js';

/** Runs one engine run under a guard (the CLI's time limit, `withRunTimeLimit`); `what` names engine and model. */
export type RunGuard = <T>(what: string, body: () => T | Promise<T>) => Promise<T>;

export interface ReferenceEngineOptions {
  /** Wraps each run (createEngine passes `withRunTimeLimit`; this file is also bundled for the browser, so it imports none). */
  readonly guard?: RunGuard;
}

export class ReferenceEngine implements Engine {
  readonly name = 'reference';

  constructor(private readonly options: ReferenceEngineOptions = {}) {}

  async run(source: ModelSource, feeds: Feeds, options: RunOptions = {}): Promise<Map<string, Tensor>> {
    const model = loadModel(source);
    const inputs = feedsToMap(feeds);
    const where = model.sourcePath ? { file: model.sourcePath } : undefined;
    for (const input of model.graph.inputs) {
      if (input.constant === undefined && !inputs.has(input.name)) {
        throw runtimeError({
          reason: `input '${input.name}' of model ${describeModelSource(source)} is missing from the feeds`,
          location: where,
          actual: `feeds ${[...inputs.keys()].map((n) => `'${n}'`).join(', ') || '(none)'}`,
        });
      }
    }
    for (const name of inputs.keys()) {
      if (!model.graph.inputs.some((input) => input.name === name)) {
        throw runtimeError({
          reason: `feed '${name}' is not an input of model ${describeModelSource(source)}`,
          location: where,
          expected: `one of ${model.graph.inputs.map((i) => `'${i.name}'`).join(', ')}`,
        });
      }
    }
    // ONNX Runtime's load-time check of operand types: the kernels would compute something for an int8 ReduceLogSum.
    refuseTypeConstraintViolations(model, describeModelSource(source));
    let results: Map<string, unknown>;
    try {
      const guard = this.options.guard;
      results = guard ? await guard(`the reference interpreter, running model ${describeModelSource(source)},`, () => runReference(model, inputs)) : runReference(model, inputs);
    } catch (error) {
      if (ModelpassError.is(error)) throw error;
      throw runtimeError({
        reason: `the reference interpreter failed on model ${describeModelSource(source)}: ${messageOf(error)}`,
        location: where,
        cause: error,
      });
    }
    const names = options.outputs ?? model.graph.outputs.map((output) => output.name);
    const outputs = new Map<string, Tensor>();
    for (const name of names) {
      if (!model.graph.outputs.some((output) => output.name === name)) {
        throw runtimeError({
          reason: `'${name}' is not an output of model ${describeModelSource(source)}`,
          location: where,
          expected: `one of ${model.graph.outputs.map((o) => `'${o.name}'`).join(', ')}`,
        });
      }
      const value = results.get(name);
      if (!(value instanceof Tensor)) {
        throw runtimeError({
          reason: `output '${name}' is ${value === null || value === undefined ? 'absent' : 'a sequence'}; only tensor outputs are supported`,
          location: where,
        });
      }
      outputs.set(name, value);
    }
    return outputs;
  }

  async dispose(): Promise<void> {}
}
