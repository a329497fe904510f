/**
 * The verifier's view of data the model computes from known data: `verifyModel(model, { knownValues:
 * propagatedValues(model) })` checks a Reshape whose target is `Concat(Slice(Shape(x)), …)` over a statically
 * shaped `x` against its declared output, as if the target were the constant a folding pass would make of it.
 * Without it a stale declaration passed verification on the model as read and surfaced only after `simplify`
 * folded the chain, blamed on the pass (fuzz seed 1824, case 6031).
 */
import type { KnownValues, Model, OpRegistry, Tensor, Value } from '@modelpass/ir';
import { inferShapes } from '../interpreter/infer-shapes.js';
import { withTypesRestored } from '../interpreter/types-restored.js';

export interface PropagatedValuesOptions {
  /** The registry to infer with (default: the canonical op set); pass the pipeline's to cover plugin ops. */
  readonly registry?: OpRegistry;
}

/**
 * A `KnownValues` for `model`'s main graph, computed by shape inference on first use (a model whose every
 * shape input is a constant never pays for it) and without changing the model: the types inference fills in are
 * put back. The data is that of the model as it is now; build a new one after a pass changes it.
 */
export function propagatedValues(model: Model, options: PropagatedValuesOptions = {}): KnownValues {
  let known: ReadonlyMap<Value, Tensor> | undefined;
  return (value) => {
    if (value.constant) return value.constant;
    if (!value.producer || value.graph !== model.graph) return undefined;
    known ??= inferMainGraphData(model, options.registry);
    return known.get(value);
  };
}

/** The data shape inference knows for the main graph's node outputs; the model's value types stay as they were. */
function inferMainGraphData(model: Model, registry: OpRegistry | undefined): ReadonlyMap<Value, Tensor> {
  const known = new Map<Value, Tensor>();
  withTypesRestored(model, () => {
    try {
      const result = inferShapes(model, registry ? { registry } : {});
      for (const node of model.graph.nodes()) {
        for (const output of node.outputs) {
          const tensor = output ? result.knownConstant(output) : undefined;
          if (tensor) known.set(output!, tensor);
        }
      }
    } catch {
      // Inference that cannot run proves nothing here: the verifier's own checks report what is wrong.
      known.clear();
    }
  });
  return known;
}
