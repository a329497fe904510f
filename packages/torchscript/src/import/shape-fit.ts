/**
 * Input shapes given for a TorchScript archive (which records none) are the caller's word: a wrong
 * channel count or rank would import into a model no engine runs (`--input-shape x=1,4,64,64` for a
 * 3-channel resnet wrote an .onnx ORT refuses). After import, the canonical op set's verifier checks
 * every node against the shapes inferred from them; the first conflict is refused at its node.
 */
import { verifyModel, type Diagnostic, type InferenceRefusal, type Model } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { torchscriptError } from '../errors.js';

const REGISTRY = createOpRegistry();

export function checkGivenShapesFit(model: Model, archivePath: string, given: string): void {
  const errors = verifyModel(model, { registry: REGISTRY }).filter((d) => d.severity === 'error');
  const first = errors[0];
  if (!first) return;
  throw givenShapesMisfit(first, errors.length - 1, archivePath, given);
}

/**
 * A shape rule refused a node while the import ran (a Linear taking 4 features given 5) and the import then failed on
 * what that left unknown (an `if` it could no longer fold): the refusal is the cause to name, not the later failure.
 */
export function givenShapesRefused(refusal: InferenceRefusal, archivePath: string, given: string): Error {
  const first = refusal.diagnostics[0];
  return first ? givenShapesMisfit(first, 0, archivePath, given) : refusal;
}

function givenShapesMisfit(first: Diagnostic, more: number, archivePath: string, given: string): Error {
  return torchscriptError({
    reason: `the input shapes given (${given}) do not fit the model: ${first.reason}${more > 0 ? ` (and ${more} more)` : ''}`,
    location: first.location?.file ? first.location : { ...first.location, file: archivePath },
    code: 'torchscript/input-shape',
    hint: 'check --input-shape (API: readTorchScript option `inputs`) against what the model was trained on: rank, channels, sizes',
  });
}
