/**
 * `compare a.onnx b.pt --input-shape input=…`: torch takes a TorchScript archive's `forward`
 * arguments by position, so an input shape or dtype given by the other model's input name binds to
 * the archive's argument at the same position (QA s11 R3: mnv3.onnx's 'input' and the traced
 * archive's forward(x) refused both spellings). The archive's inputs are then renamed after the
 * other model's, so either model may come first; a note on stderr says how they paired.
 */
import { ModelpassError, type Dim, type DType, type Model } from '@modelpass/ir';
import { feedableInputs } from '@modelpass/runtime';
import type { ModelFormat, ModelReadOptions } from './formats.js';
import { applyInputShapes } from './input-shapes.js';

const quoted = (names: readonly string[]) => (names.length ? names.map((name) => `'${name}'`).join(', ') : 'no inputs');

/**
 * The other model's input names in order, when every name given with --input-shape/--input-dtype is
 * one of them (so they bind to the archive by position); undefined to read the archive by name.
 * Names in `excluded` (inputs the archive no longer takes: fixed by --input-value) take no position.
 */
export function positionalOrder(other: Model, given: ReadonlySet<string>, bindings: number, excluded: ReadonlySet<string> = new Set()): readonly string[] | undefined {
  if (given.size === 0 || bindings > 0) return undefined;
  const names = feedableInputs(other).map((input) => input.name).filter((name) => !excluded.has(name));
  return [...given].every((name) => names.includes(name)) ? names : undefined;
}

/** Reads the archive with the shapes and dtypes bound by position, and renames its inputs after `order`. */
export async function readArchiveByPosition(
  format: ModelFormat,
  path: string,
  read: ModelReadOptions,
  shapes: ReadonlyMap<string, readonly Dim[]>,
  dtypes: ReadonlyMap<string, DType>,
  order: readonly string[],
  otherPath: string,
  note: (text: string) => void,
): Promise<Model> {
  const model = await format.read(path, { ...read, inputShapes: shapes, inputDtypes: dtypes, inputOrder: order });
  const inputs = feedableInputs(model);
  const own = inputs.map((input) => input.name);
  if (inputs.length !== order.length) {
    throw new ModelpassError({
      reason: `compare pairs a .pt's forward arguments with the other model's inputs by position, but '${otherPath}' takes ${order.length} (${quoted(order)}) and '${path}' takes ${inputs.length} (${quoted(own)})`,
      location: { file: path },
      code: 'cli/compare-input-names',
      source: '@modelpass/cli',
      hint: 'compare two models that take the same inputs; a non-tensor forward argument is given with --bind NAME=VALUE',
    });
  }
  const renamed = order.filter((name, i) => own[i] !== name).map((name) => `'${own[order.indexOf(name)]}' ← '${name}'`);
  // Two passes, so a permutation of the same names does not collide.
  inputs.forEach((input, i) => {
    if (input.name !== order[i]) input.rename(model.graph.uniqueName(`${input.name}__positional`));
  });
  inputs.forEach((input, i) => {
    if (input.name !== order[i]) input.rename(order[i]!);
  });
  applyInputShapes(model, shapes, path);
  if (renamed.length > 0) note(`modelpass: note: '${path}' is fed by position: its forward arguments take the inputs of '${otherPath}' in order (${renamed.join(', ')})`);
  return model;
}
