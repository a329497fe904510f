/**
 * TFLite tensors have static shapes: `legalize-tflite` lays a model out for size 1 wherever an input
 * dim is symbolic or unknown. On the batch axis that is harmless (the runtime may be fed k samples),
 * but past it (an image's height and width) the file then runs only 1×1 inputs — and did so silently.
 * `convert` says so once per input, with the `--input-shape` that fixes it — also for an input of
 * unknown rank (a TorchScript archive's), which legalize-tflite cannot lay out at all.
 */
import { ModelpassError, type Dim, type Model } from '@modelpass/ir';

/** A symbolic dim's name that says it is a sequence or time length, not a batch (`seq`, `src_len`, `time`, `L`, `T`). */
const LENGTH_NAME = /seq|len|time|token|frame|^[lst]$/i;

/** A symbolic dim's name that says it is the batch (`batch`, `batch_size`, `N`, `B`, `bs`), wherever it is. */
const BATCH_NAME = /batch|^[nb]$|^bs$/i;

/**
 * The `--input-shape` size suggested for an open dim: 1 for the batch — a dim named like one, or axis 0 unless its
 * name says it is a length (a sequence-first `[seq, batch, E]`) — else `SIZE`.
 */
function suggestedSize(dim: Dim, axis: number): string {
  if (typeof dim === 'number') return String(dim);
  if (typeof dim === 'string') return BATCH_NAME.test(dim) || (axis === 0 && !LENGTH_NAME.test(dim)) ? '1' : 'SIZE';
  return axis === 0 ? '1' : 'SIZE';
}

/**
 * The symbolic or unknown dims of `shape` from axis `from` on, named for a message (`'H', axis 3`), and the
 * `--input-shape` dims that fix them (batch 1, the others `SIZE`); undefined when there are none.
 */
function openDims(shape: readonly Dim[], from: number): { names: string; example: string } | undefined {
  const open = shape.map((dim, axis) => ({ dim, axis })).filter(({ dim, axis }) => axis >= from && typeof dim !== 'number');
  if (open.length === 0) return undefined;
  return {
    names: open.map(({ dim, axis }) => (dim === null ? `axis ${axis}` : `'${dim}'`)).join(', '),
    example: shape.map(suggestedSize).join(','),
  };
}

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
    const open = openDims(input.type.shape, 1);
    if (!open) continue;
    notes.push(
      `modelpass: note: input '${input.name}' has symbolic dims past the batch axis (${open.names}); TFLite tensors have static shapes, so the .tflite is laid out for size 1 there — give the sizes you run with --input-shape ${input.name}=${open.example}`,
    );
  }
  return notes;
}

/**
 * Inputs with symbolic dims, spelt as the `--input-shape` that fixes them (batch 1, other open dims
 * `SIZE`), e.g. `input=1,3,64,64`; empty when every input is static.
 */
function symbolicInputShapes(model: Model): { name: string; dims: string; example: string }[] {
  const found: { name: string; dims: string; example: string }[] = [];
  for (const input of model.graph.inputs) {
    if (input.constant !== undefined || input.type.kind !== 'tensor' || !input.type.shape) continue;
    const open = openDims(input.type.shape, 0);
    if (open) found.push({ name: input.name, dims: open.names, example: `${input.name}=${open.example}` });
  }
  return found;
}

/**
 * legalize-tflite refused nodes of a model whose inputs have symbolic dims (a dynamic batch): shapes
 * computed from them (ViT's class token Expand, Swin's window Reshapes) are not static there, though a
 * .tflite is laid out static anyway. The refusal gets a note naming the `--input-shape` that fixes
 * them; any other error is returned as it was.
 */
export function withSymbolicInputNote(error: unknown, model: Model): unknown {
  if (!ModelpassError.is(error) || !error.diagnostics.some((d) => d.code === 'tflite/unmappable')) return error;
  const inputs = symbolicInputShapes(model);
  if (inputs.length === 0) return error;
  const [first, ...rest] = error.diagnostics;
  const note =
    `${inputs.map((input) => `input '${input.name}' has symbolic dims (${input.dims})`).join('; ')}, so shapes computed from them are not static while converting; ` +
    `with them fixed (--input-shape ${inputs.map((input) => input.example).join(' --input-shape ')}) such nodes may convert`;
  return new ModelpassError([{ ...first!, notes: [...(first!.notes ?? []), note] }, ...rest]);
}

/** The largest dim a TFLite shape holds: shapes are int32 vectors in the flatbuffer. */
const TFLITE_MAX_DIM = 2 ** 31 - 1;

/**
 * Refuses, before any pass runs, a graph input with a static dim TFLite cannot store (over 2^31 - 1: shapes are int32),
 * from the file or from `--input-shape`. legalize-tflite computed such shapes into int32 RESHAPE constants, which wrapped
 * (4000000000 → -294967296), and then stopped with "left the IR invalid" and a crash reproducer (QA s18 round 16).
 */
export function checkTfliteInputDims(model: Model, path: string): void {
  for (const input of model.graph.inputs) {
    if (input.constant !== undefined || input.type.kind !== 'tensor' || !input.type.shape) continue;
    const axis = input.type.shape.findIndex((dim) => typeof dim === 'number' && dim > TFLITE_MAX_DIM);
    if (axis < 0) continue;
    const shown = input.type.shape.map((dim) => dim ?? '?').join(',');
    throw new ModelpassError({
      reason: `input '${input.name}' has dim ${input.type.shape[axis]} at axis ${axis} ([${shown}]); TFLite stores tensor shapes as int32`,
      location: { file: path },
      code: 'cli/tflite-dim-range',
      source: '@modelpass/cli',
      expected: `dims of at most ${TFLITE_MAX_DIM}`,
      actual: String(input.type.shape[axis]),
      hint: `give the sizes you run with --input-shape ${input.name}=…`,
    });
  }
}
