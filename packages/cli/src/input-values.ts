/**
 * `--input-value NAME=VALUES` (repeatable): fixes a model input to a constant, e.g. silero VAD's
 * sample rate (`sr=16000`). The input stops being an input and becomes an initializer of the same
 * name, dtype and shape, so folds see it: a branch on it (`If(Equal(sr, 16000))`) can be inlined by
 * `simplify`. VALUES are comma-separated numbers (or true/false for bool inputs) in row-major order;
 * their count must equal the input's element count (one value for a scalar).
 */
import { dtypeInfo, isFloatDType, isIntegerDType, ModelpassError, Tensor, type Model, type Value } from '@modelpass/ir';
import type { FlagSpec } from './args.js';
import { parseNameBindings } from './name-bindings.js';
import { UsageError } from './usage-error.js';

export const inputValueFlag: FlagSpec = {
  type: 'list',
  help: 'fix input NAME to these values (comma-separated, row-major), making it a constant the passes can fold, e.g. sr=16000 (repeatable)',
  valueName: 'NAME=VALUES',
};

/** Parses the flag values; a malformed one is a usage error quoting it. */
export function parseInputValues(values: readonly string[]): ReadonlyMap<string, readonly string[]> {
  const parsed = new Map<string, readonly string[]>();
  for (const [name, list] of parseNameBindings(values, { flag: 'input-value', expected: 'NAME=VALUES, e.g. sr=16000' })) {
    parsed.set(name, list.split(',').map((part) => part.trim()));
  }
  return parsed;
}

function elementValue(text: string, dtype: string, fail: (reason: string) => never): number | bigint | boolean {
  if (dtype === 'bool') {
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
    return fail(`'${text}' is not a bool (true, false, 1 or 0)`);
  }
  if (dtype === 'int64' || dtype === 'uint64') {
    if (!/^-?\d+$/.test(text)) return fail(`'${text}' is not an integer`);
    const value = BigInt(text);
    if (dtype === 'uint64' ? BigInt.asUintN(64, value) !== value : BigInt.asIntN(64, value) !== value) return fail(`${text} does not fit ${dtype}`);
    return value;
  }
  if (isIntegerDType(dtype as never)) {
    const { bits, category } = dtypeInfo(dtype as never);
    const value = /^-?\d+$/.test(text) ? Number(text) : NaN;
    const [low, high] = category === 'unsigned' ? [0, 2 ** bits - 1] : [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1];
    if (!Number.isInteger(value) || value < low || value > high) return fail(`'${text}' is not a ${dtype} (an integer from ${low} to ${high})`);
    return value;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return fail(`'${text}' is not a number`);
  const value = Number(text);
  // 1e39 is Infinity in float32 (70000 in float16): a value the dtype cannot hold is refused, not rounded to an infinity.
  const stored = Tensor.fromValues(dtype as never, [1], [value]).toNumbers()[0]!;
  if (!Number.isFinite(stored)) return fail(`${text} is outside the range of ${dtype}`);
  return value;
}

/**
 * The tensor `--input-value` gives `input` (its declared dtype and static shape). A dtype other than a
 * number or bool, an unknown shape, a wrong count of values or a value the dtype cannot hold calls `fail`.
 */
export function inputValueTensor(input: Value, texts: readonly string[], fail: (reason: string) => never): Tensor {
  const name = input.name;
  const type = input.type;
  if (type.kind !== 'tensor') return fail(`input '${name}' has no known tensor type (give it with --input-shape, or the model must declare it)`);
  const { dtype, shape } = type;
  if (dtype !== 'bool' && !isFloatDType(dtype) && !isIntegerDType(dtype)) return fail(`input '${name}' is ${dtype}; only number and bool inputs can be fixed`);
  if (!shape || shape.some((dim) => typeof dim !== 'number')) {
    return fail(`input '${name}' has shape [${(shape ?? []).map((dim) => dim ?? '?').join(', ')}]; fix its dims with --input-shape first`);
  }
  const dims = shape as readonly number[];
  const count = dims.reduce((product, dim) => product * dim, 1);
  if (texts.length !== count) return fail(`input '${name}' is ${dtype}[${dims.join(', ')}] with ${count} element(s); ${texts.length} value(s) given`);
  const elements = texts.map((text) => elementValue(text, dtype, (reason) => fail(looksLikeFile(text) ? `${reason}: ${LITERAL_VALUES}` : reason)));
  return Tensor.fromValues(dtype, dims, elements as never);
}

const LITERAL_VALUES = 'VALUES are literal numbers (comma-separated, row-major, e.g. sr=16000), not a file; compare and diff read inputs from .npy/.pb files with --inputs DIR';

/** A value that names a file rather than a number: a path separator, `@file`, or a file extension. */
function looksLikeFile(text: string): boolean {
  return /[/\\@]/.test(text) || /\.[A-Za-z][A-Za-z0-9]*$/.test(text);
}

const inputValueError = (name: string, path: string) => (reason: string): never => {
  throw new ModelpassError({ reason: `--input-value ${name}: ${reason}`, location: { file: path }, code: 'cli/input-value', source: '@modelpass/cli' });
};

/**
 * Turns each named input into an initializer holding the given values. An unknown input, a dtype
 * other than a number or bool, an unknown shape or a wrong count of values is an error naming the input.
 */
export function applyInputValues(model: Model, values: ReadonlyMap<string, readonly string[]>, path: string): void {
  const graph = model.graph;
  for (const [name, texts] of values) {
    const fail = inputValueError(name, path);
    const inputs = graph.inputs.filter((value) => !value.constant);
    const input = inputs.find((value) => value.name === name);
    if (!input) return fail(`the model has no input '${name}' (its inputs: ${inputs.map((value) => value.name).join(', ') || 'none'})`);
    if (graph.outputs.includes(input)) return fail(`input '${name}' is also a graph output; it cannot become a constant`);
    const tensor = inputValueTensor(input, texts, fail);
    const constant = graph.addConstant(graph.uniqueName(`${name}__value`), tensor);
    input.replaceAllUsesWith(constant);
    graph.removeInput(input);
    constant.rename(name);
  }
}

/**
 * `compare --input-value`: the tensor fed as each named input, typed by the first of `models` that
 * takes it (the other one may have had it made a constant by `convert --input-value`). An input
 * neither model takes is an error naming both lists.
 */
export function fixedInputTensors(values: ReadonlyMap<string, readonly string[]>, models: readonly { model: Model; path: string }[]): Map<string, Tensor> {
  const tensors = new Map<string, Tensor>();
  for (const [name, texts] of values) {
    const owner = models.find(({ model }) => model.graph.inputs.some((value) => !value.constant && value.name === name));
    if (!owner) {
      const lists = models.map(({ model, path }) => `'${path}' takes ${model.graph.inputs.filter((value) => !value.constant).map((value) => value.name).join(', ') || 'none'}`);
      return inputValueError(name, models[0]?.path ?? '')(`neither model has an input '${name}' (${lists.join('; ')})`);
    }
    const input = owner.model.graph.inputs.find((value) => !value.constant && value.name === name)!;
    tensors.set(name, inputValueTensor(input, texts, inputValueError(name, owner.path)));
  }
  return tensors;
}
