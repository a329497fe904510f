/**
 * TFLite tensors have static shapes: `legalize-tflite` lays a model out for size 1 wherever an input
 * dim is symbolic or unknown. On the batch axis that is harmless (the runtime may be fed k samples),
 * but past it (an image's height and width) the file then runs only 1×1 inputs — and did so silently.
 * `convert` says so once per input, with the `--input-shape` that fixes it — also for an input of
 * unknown rank (a TorchScript archive's), which legalize-tflite cannot lay out at all.
 */
import type { Model } from '@modelpass/ir';

/** The stderr note for each graph input with symbolic or unknown dims past axis 0 (none: empty). */
export function staticShapeNotes(model: Model): string[] {
  const notes: string[] = [];
  for (const input of model.graph.inputs) {
    if (input.constant !== undefined || input.type.kind !== 'tensor') continue;
    if (!input.type.shape) {
      // No rank at all (a TorchScript archive records none): legalize-tflite then refuses every shape-dependent node.
      notes.push(
        `modelpass: note: input '${input.name}' has no known shape${model.sourceFormat === 'torchscript' ? ' (TorchScript archives record none)' : ''}; TFLite tensors have static shapes — give it with --input-shape ${input.name}=DIM,DIM,… (e.g. ${input.name}=1,3,224,224)`,
      );
      continue;
    }
    const shape = input.type.shape;
    const open = shape.map((dim, axis) => ({ dim, axis })).filter(({ dim, axis }) => axis > 0 && typeof dim !== 'number');
    if (open.length === 0) continue;
    const names = open.map(({ dim, axis }) => (dim === null ? `axis ${axis}` : `'${dim}'`)).join(', ');
    const example = shape.map((dim, axis) => (typeof dim === 'number' ? String(dim) : axis === 0 ? '1' : 'SIZE')).join(',');
    notes.push(
      `modelpass: note: input '${input.name}' has symbolic dims past the batch axis (${names}); TFLite tensors have static shapes, so the .tflite is laid out for size 1 there — give the sizes you run with --input-shape ${input.name}=${example}`,
    );
  }
  return notes;
}
