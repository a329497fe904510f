/**
 * compare reads a .pt to pair its forward arguments and outputs with the other model's, though torch runs the
 * archive itself. An archive the TorchScript reader cannot read (torchvision.ops.nms: "call of ops.torchvision.nms
 * is not supported") made `modelpass compare a.onnx b.pt` fail although torch runs it (the torch engine imports
 * torchvision). When torch takes the file, such an archive is run as it is: fed the other model's inputs by
 * position, its outputs compared in order, with a note saying so.
 */
import { Model, ModelpassError, tensorType } from '@modelpass/ir';
import { feedableInputs, type ModelSource } from '@modelpass/runtime';

/** The refusal code of the TorchScript reader for code it cannot import (an op with no aten spelling, an unsupported construct). */
const READER_REFUSAL = 'torchscript/import';

export interface ArchiveRunByTorch {
  readonly source: ModelSource;
  readonly model: Model;
  readonly path: string;
  readonly byPosition: true;
}

/** Whether `error` is the TorchScript reader refusing the archive's code (not a damaged or hostile file). */
export function isArchiveCodeRefusal(error: unknown): error is ModelpassError {
  return ModelpassError.is(error) && error.diagnostics.some((d) => d.code === READER_REFUSAL);
}

/**
 * The .pt at `path` as torch alone runs it: a stand-in model with `other`'s inputs (names, dtypes and shapes, fed by
 * position) and no graph of its own; `note` receives why and how it is compared.
 */
export function archiveRunByTorch(path: string, other: Model, otherPath: string, refusal: ModelpassError, note: (text: string) => void): ArchiveRunByTorch {
  const standIn = new Model();
  standIn.sourceFormat = 'torchscript';
  standIn.sourcePath = path;
  for (const input of feedableInputs(other)) standIn.graph.addInput(input.name, input.type.kind === 'tensor' ? tensorType(input.type.dtype, input.type.shape) : input.type);
  const reason = refusal.diagnostics.find((d) => d.code === READER_REFUSAL)?.reason ?? refusal.message;
  note(
    `modelpass: note: modelpass's TorchScript reader cannot read '${path}' (${reason}); torch runs it as it is: ` +
      `fed '${otherPath}''s inputs (${feedableInputs(other).map((i) => i.name).join(', ')}) by position, its outputs compared with '${otherPath}''s in order`,
  );
  return { source: path, model: standIn, path, byPosition: true };
}
