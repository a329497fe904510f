/**
 * `--input-dtype NAME=DTYPE` (repeatable): the element type of a model input, for TorchScript archives,
 * whose `forward(self, tokens: Tensor)` records none (they are read as float32). A scripted text model
 * indexes an embedding with its input, which must then be int64: `--input-dtype tokens=int64`. On a
 * format that declares its input types the flag must agree with the file (a contradiction is an error).
 */
import { ALL_DTYPES, isDType, ModelpassError, type DType, type Model } from '@modelpass/ir';
import type { FlagSpec } from './args.js';
import { parseNameBindings } from './name-bindings.js';
import { UsageError } from './usage-error.js';

export const inputDtypeFlag: FlagSpec = {
  type: 'list',
  help: 'element type of input NAME, e.g. tokens=int64 (repeatable; TorchScript archives record none and read as float32)',
  valueName: 'NAME=DTYPE',
};

/** Parses the flag values; a malformed one or an unknown dtype is a usage error quoting it. */
export function parseInputDtypes(values: readonly string[]): ReadonlyMap<string, DType> {
  const parsed = new Map<string, DType>();
  const expected = 'NAME=DTYPE, e.g. tokens=int64';
  for (const [name, dtype] of parseNameBindings(values, { flag: 'input-dtype', expected })) {
    if (!/^[A-Za-z0-9_]+$/.test(dtype)) throw new UsageError(`--input-dtype '${name}=${dtype}': expected ${expected}`);
    if (!isDType(dtype)) throw new UsageError(`--input-dtype '${name}=${dtype}': '${dtype}' is not a dtype (one of ${ALL_DTYPES.join(', ')})`);
    parsed.set(name, dtype);
  }
  return parsed;
}

/**
 * Checks the flags against a model read from a format that records input types (ONNX, TFLite, .mpir):
 * an unknown input or another dtype than the file declares is an error naming the input.
 */
export function checkInputDtypes(model: Model, dtypes: ReadonlyMap<string, DType>, path: string): void {
  const inputs = model.graph.inputs.filter((value) => !value.constant);
  for (const [name, dtype] of dtypes) {
    const fail = (reason: string): never => {
      throw new ModelpassError({ reason: `--input-dtype ${name}: ${reason}`, location: { file: path }, code: 'cli/input-dtype', source: '@modelpass/cli' });
    };
    const input = inputs.find((value) => value.name === name);
    if (!input) return fail(`the model has no input '${name}' (its inputs: ${inputs.map((value) => value.name).join(', ') || 'none'})`);
    if (input.type.kind === 'tensor' && input.type.dtype !== dtype) {
      return fail(`the model declares input '${name}' as ${input.type.dtype}; only a TorchScript archive's input types can be given (the flag gives ${dtype})`);
    }
  }
}
