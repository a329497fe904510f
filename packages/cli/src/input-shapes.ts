/**
 * `--input-shape NAME=DIMS` (repeatable): the shape of a model input, for formats whose files do not
 * record it (TorchScript: `forward(self, x: Tensor)` carries no rank) or declare it unknown (an ONNX
 * input with a `?` dim). DIMS is comma-separated: a number, a symbolic name (`batch`), or `?`;
 * `NAME=` alone is a scalar.
 */
import { ModelpassError, tensorType, type Dim, type Model, type Value } from '@modelpass/ir';
import type { FlagSpec } from './args.js';
import type { ModelFormat, ModelReadOptions } from './formats.js';
import { parseNameBindings } from './name-bindings.js';
import { UsageError } from './usage-error.js';

export const inputShapeFlag: FlagSpec = {
  type: 'list',
  help: 'shape of input NAME: numbers, symbolic names or ? separated by commas, e.g. x=batch,time,16 (repeatable; TorchScript archives record no input shapes)',
  valueName: 'NAME=DIMS',
};

/** Parses the flag values; a malformed one is a usage error quoting it. */
export function parseInputShapes(values: readonly string[]): ReadonlyMap<string, readonly Dim[]> {
  const shapes = new Map<string, readonly Dim[]>();
  for (const [name, dimsText] of parseNameBindings(values, { flag: 'input-shape', expected: 'NAME=DIMS, e.g. x=batch,time,16', allowEmpty: true })) {
    const dims = dimsText === '' ? [] : dimsText.split(',').map((part): Dim => {
      const dim = part.trim();
      if (/^\d+$/.test(dim) && Number.isSafeInteger(Number(dim))) return Number(dim);
      if (dim === '?') return null;
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(dim)) return dim;
      throw new UsageError(`--input-shape '${name}=${dimsText}': dim '${dim}' is not a size, a symbolic name or ?`);
    });
    shapes.set(name, dims);
  }
  return shapes;
}

/**
 * Checks the model's inputs against the given shapes and sets them: an unknown input name, a rank
 * other than the declared one, or a dim that contradicts a declared fixed size is an error.
 */
export function applyInputShapes(model: Model, shapes: ReadonlyMap<string, readonly Dim[]>, path: string): void {
  const inputs = model.graph.inputs.filter((value) => !value.constant);
  const resolved = new Map<string, Dim>();
  for (const [name, dims] of shapes) {
    const input = inputs.find((value) => value.name === name);
    const fail = (reason: string): never => {
      throw new ModelpassError({ reason: `--input-shape ${name}: ${reason}`, location: { file: path }, code: 'cli/input-shape', source: '@modelpass/cli' });
    };
    if (!input) return fail(`the model has no input '${name}' (its inputs: ${inputs.map((value) => value.name).join(', ') || 'none'})`);
    const type = input.type;
    if (type.kind !== 'tensor' && type.kind !== 'unknown') return fail(`input '${name}' is a ${type.kind}, not a tensor`);
    const declared = type.kind === 'tensor' ? type.shape : null;
    if (declared) {
      if (declared.length !== dims.length) return fail(`the model declares rank ${declared.length} (${formatDims(declared)}), the flag gives rank ${dims.length}`);
      declared.forEach((dim, i) => {
        if (typeof dim === 'number' && dim !== dims[i]) fail(`dim ${i} is declared ${dim}; only unknown or symbolic dims can be set (the flag gives ${dims[i] ?? '?'})`);
      });
    }
    declared?.forEach((dim, i) => {
      if (typeof dim === 'string' && dims[i] !== dim) resolved.set(dim, dims[i]!);
    });
    // A quantized input (a .tflite with io-type=int8) keeps its scale and zero point: compare quantizes float feeds with them.
    input.type = type.kind === 'tensor' ? tensorType(type.dtype, dims, type.quant) : tensorType('float32', dims);
  }
  renameResolvedSymbols(model, resolved);
}

/**
 * A symbolic dim the flags replaced (`H` → 32) is the same size wherever the model names it: the
 * declared outputs and intermediate types say the new dim too (they kept `[batch, 4, H, W]` while the
 * input became `[1, 3, 32, 48]`). A symbol another input still carries is left alone.
 */
function renameResolvedSymbols(model: Model, resolved: Map<string, Dim>): void {
  for (const input of model.graph.inputs) {
    if (input.type.kind !== 'tensor') continue;
    for (const dim of input.type.shape ?? []) if (typeof dim === 'string') resolved.delete(dim);
  }
  if (resolved.size === 0) return;
  const retype = (value: Value | null): void => {
    if (!value || value.type.kind !== 'tensor' || !value.type.shape?.some((dim) => typeof dim === 'string' && resolved.has(dim))) return;
    value.type = { ...value.type, shape: value.type.shape.map((dim) => (typeof dim === 'string' && resolved.has(dim) ? resolved.get(dim)! : dim)) };
  };
  for (const node of model.graph.nodeList()) node.outputs.forEach(retype);
  model.graph.outputs.forEach(retype);
}

function formatDims(dims: readonly Dim[]): string {
  return `[${dims.map((dim) => dim ?? '?').join(', ')}]`;
}

/**
 * Reads a model with the `--input-shape` values applied, as `convert` does: TorchScript gets them
 * while importing (its archives record none), every format gets them checked and set afterwards.
 */
export async function readWithInputShapes(format: ModelFormat, path: string, read: ModelReadOptions, shapes: ReadonlyMap<string, readonly Dim[]>): Promise<Model> {
  if (shapes.size === 0) return format.read(path, read);
  const model = await format.read(path, { ...read, inputShapes: shapes });
  applyInputShapes(model, shapes, path);
  return model;
}
