/**
 * ONNX Runtime refuses at load a node whose operand types its op's ONNX type constraints do not allow (an int8
 * ReduceLogSum: "Type 'tensor(int8)' of input parameter (x) of operator (ReduceLogSum) in node (rls) is invalid");
 * the reference kernels, written over numbers, computed something for it (log 21 truncated to 3). The reference
 * engine refuses such a model the same way, with the verifier's type-constraint diagnostics (the refusals the CLI
 * gives for such a model elsewhere), on types inferred where the model leaves them out, as ONNX Runtime infers them.
 */
import { ModelpassError, verifyModel, type Model, type OpRegistry } from '@modelpass/ir';
import { createOpRegistry, inferShapes, withTypesRestored } from '@modelpass/ops';

let canonicalRegistry: OpRegistry | undefined;
/** Models found free of violations (a model run again and again, as in a calibration loop, is checked once). */
const accepted = new WeakSet<Model>();

/** Throws when a node of `model` takes an operand type its op's ONNX type constraints do not allow; `what` names the model. */
export function refuseTypeConstraintViolations(model: Model, what: string): void {
  if (accepted.has(model)) return;
  const registry = (canonicalRegistry ??= createOpRegistry());
  const violations = withInferredTypes(model, registry, () =>
    verifyModel(model, { registry, types: false }).filter((d) => d.severity === 'error' && d.code === 'ops/type-constraint'),
  );
  if (violations.length === 0) {
    accepted.add(model);
    return;
  }
  throw new ModelpassError([
    {
      reason: `the reference interpreter refuses model ${what}: ${violations.length === 1 ? 'a node takes an operand type' : `${violations.length} nodes take operand types`} that ONNX's type constraints for the op do not allow`,
      source: '@modelpass/runtime',
      code: 'runtime/type-constraint',
      hint: 'ONNX Runtime refuses the model at load too: cast the operand to a type the op takes',
    },
    ...violations,
  ]);
}

/** Runs `body` with the types shape inference gives values the model declares none for; the model's own types are put back. */
function withInferredTypes<T>(model: Model, registry: OpRegistry, body: () => T): T {
  return withTypesRestored(model, () => {
    try {
      inferShapes(model, { registry });
    } catch {
      // Inference that cannot run leaves the declared types: the check sees those.
    }
    return body();
  });
}
