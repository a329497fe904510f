/**
 * How an op's type inference says "no shape exists for these inputs" (a Reshape of 4 elements to
 * [3,-1], a Concat of rank 2 with rank 1, a Squeeze of a size-4 axis): it throws an
 * `InferenceRefusal`, a `ModelpassError` whose diagnostic names the node, the code of the check
 * (`ops/reshape-size`, …), what was expected and what was found. Inference that throws anything else
 * has only failed to compute (a missing attribute, a bug) and proves nothing about the model.
 *
 * The verifier reports a refusal as an error at the node of a main graph (as ONNX Runtime refuses
 * such a file at load), unless the node's own checks reported that code already; `inferShapes`
 * reports it too. A refusal in an If/Loop/Scan body is not the verifier's error: the body may never
 * run with those shapes.
 */
import { ModelpassError, type DiagnosticInit } from './diagnostic.js';

export class InferenceRefusal extends ModelpassError {
  /** Marks the error across copies of this package (a plugin may resolve its own). */
  readonly inferenceRefusal = true;

  constructor(init: DiagnosticInit) {
    super({ severity: 'error', ...init });
  }
}

/** Whether `error` is an `InferenceRefusal` (by its marker, so a refusal from another copy of the package counts). */
export function isInferenceRefusal(error: unknown): error is InferenceRefusal {
  return ModelpassError.is(error) && (error as { inferenceRefusal?: unknown }).inferenceRefusal === true;
}
