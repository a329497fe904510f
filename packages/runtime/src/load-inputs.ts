/**
 * Loads input tensors from files: NumPy `.npy` and ONNX `TensorProto` `.pb` (the layout of ONNX's
 * test data, `test_data_set_0/input_0.pb`). A file named `<input>.npy|.pb` feeds that input;
 * `input_N.npy|.pb` feeds the N-th input that needs a feed (inputs with a default value are skipped,
 * as ONNX's test runners do). A folder holding no tensor files but one `test_data_set_N/` folder (an
 * ONNX model folder: `model.onnx` beside its test data) reads that set; with several sets, the error
 * names them (the feeds are one sample).
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { linkOutOfFolder } from './folder-links.js';
import { ModelpassError, Tensor, formatType, type Model, type Value } from '@modelpass/ir';
import { decodeTensorProto } from '@modelpass/onnx';
import { messageOf, runtimeError } from './errors.js';
import { feedableInputs } from './generate-inputs.js';
import { readNpy } from './npy.js';
import { readRegularFile } from './regular-file.js';

/** File extensions `loadInputs` and `readTensorFile` understand. */
export const TENSOR_FILE_EXTENSIONS = ['.npy', '.pb'] as const;

/** Reads one tensor from a `.npy` or TensorProto `.pb` file. */
export function readTensorFile(path: string): Tensor {
  const extension = extname(path).toLowerCase();
  if (extension === '.npy') return readNpy(path);
  if (extension === '.pb') {
    const bytes = readRegularFile(path, 'tensor file');
    let tensor: Tensor;
    try {
      tensor = decodeTensorProto(bytes);
    } catch (error) {
      if (ModelpassError.is(error)) {
        if (error.diagnostics.some((d) => d.location?.file !== undefined)) throw error;
        throw new ModelpassError(error.diagnostics.map((d) => ({ ...d, location: { ...d.location, file: path } })));
      }
      throw runtimeError({ reason: `'${path}' is not a valid ONNX TensorProto: ${messageOf(error)}`, location: { file: path }, cause: error });
    }
    return tensor;
  }
  throw runtimeError({
    reason: `cannot tell the format of tensor file '${path}'`,
    location: { file: path },
    expected: `a file ending in ${TENSOR_FILE_EXTENSIONS.join(' or ')}`,
  });
}

/** The tensor files of a folder (sorted so that input_2 comes before input_10). */
export function listTensorFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (cause) {
    throw runtimeError({ reason: `cannot read input folder '${dir}'`, location: { file: dir }, cause });
  }
  const files = names
    .filter((name) => (TENSOR_FILE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase()))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((name) => join(dir, name));
  for (const file of files) refuseLinkOutOf(dir, file);
  return files;
}

/** An entry that is a symbolic link to a file outside the folder is refused, naming link and target (`linkOutOfFolder`). */
function refuseLinkOutOf(dir: string, file: string): void {
  const target = linkOutOfFolder(dir, file);
  if (target === undefined) return;
  throw runtimeError({
    reason: `input file '${file}' is a symbolic link to '${target}', outside the folder '${dir}'`,
    location: { file },
    expected: 'tensor files inside the folder given (links out of it are not followed)',
    hint: 'copy the file into the folder, or give its own folder or the file itself',
  });
}

const OUTPUT_FILE = /^output_\d+$/;
const TEST_DATA_SET = /^test_data_set_\d+$/;
const ACCEPTED_LAYOUTS = "files named after the model's inputs (<input>.npy or .pb), input_N.npy/.pb (ONNX test data), or a folder holding one test_data_set_N/ of them";

/** The input files of folder `dir` (expected outputs `output_N` left out). */
function inputFilesOf(dir: string): string[] {
  return listTensorFiles(dir).filter((f) => !OUTPUT_FILE.test(basename(f, extname(f))));
}

/**
 * The folder whose files feed the inputs: `dir` itself, or, when it holds no tensor files but
 * ONNX test data sets (`test_data_set_0/input_0.pb`, the layout of ONNX's model folders), its only
 * set. Several sets, or no tensor files at all, are an error naming the layouts accepted.
 */
export function resolveInputFolder(dir: string): string {
  if (inputFilesOf(dir).length > 0) return dir;
  const sets = readdirSync(dir)
    .filter((name) => TEST_DATA_SET.test(name) && statSync(join(dir, name)).isDirectory())
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (sets.length === 1) return join(dir, sets[0]!);
  if (sets.length > 1) {
    throw runtimeError({
      reason: `input folder '${dir}' holds ${sets.length} ONNX test data sets (${sets.join(', ')}), but the inputs are one sample: give one set, e.g. '${join(dir, sets[0]!)}'`,
      location: { file: dir },
      expected: ACCEPTED_LAYOUTS,
    });
  }
  throw runtimeError({ reason: `input folder '${dir}' holds no .npy or .pb files`, location: { file: dir }, expected: ACCEPTED_LAYOUTS });
}

export interface LoadInputsOptions {
  /** Fail when an input that needs a feed has no file (default true). */
  readonly requireAll?: boolean;
}

/**
 * Loads the feeds for `model` from a folder or a list of files, matching files to inputs by name
 * or position, and checks each tensor's dtype and static dimensions against the input's type.
 */
export function loadInputs(source: string | readonly string[], model: Model, options: LoadInputsOptions = {}): Map<string, Tensor> {
  const isDir = typeof source === 'string' && statSafe(source).isDirectory();
  // In a folder, ONNX test data keeps expected outputs next to the inputs: they are not inputs.
  const byName = new Map(model.graph.inputs.map((input) => [input.name, input]));
  const positional = feedableInputs(model);
  const folder = isDir ? (positional.length > 0 && (options.requireAll ?? true) ? resolveInputFolder(source) : source) : undefined;
  const files = typeof source === 'string' ? (folder !== undefined ? inputFilesOf(folder) : [source]) : [...source];
  const feeds = new Map<string, Tensor>();
  const origin = new Map<string, string>();
  for (const file of files) {
    const stem = basename(file, extname(file));
    let input = byName.get(stem);
    if (!input) {
      const match = /^input_(\d+)$/.exec(stem);
      if (match) {
        input = positional[Number(match[1])];
        if (!input) {
          throw runtimeError({
            reason: `file '${file}' feeds input #${match[1]}, but the model has only ${positional.length} inputs that take feeds`,
            location: { file },
            expected: positional.map((i) => `'${i.name}'`).join(', ') || '(none)',
          });
        }
      }
    }
    if (!input) {
      throw runtimeError({
        reason: `cannot match file '${file}' to a model input`,
        location: { file },
        expected: `a file named after an input (${model.graph.inputs.map((i) => `'${i.name}'`).join(', ')}) or input_N`,
        actual: `'${basename(file)}'`,
      });
    }
    if (origin.has(input.name)) {
      throw runtimeError({ reason: `input '${input.name}' is fed by two files: '${origin.get(input.name)}' and '${file}'`, location: { file } });
    }
    const tensor = readTensorFile(file);
    checkAgainstInput(tensor, input, file);
    feeds.set(input.name, tensor);
    origin.set(input.name, file);
  }
  if (options.requireAll ?? true) {
    const missing = positional.filter((input) => !feeds.has(input.name));
    if (missing.length > 0) {
      throw runtimeError({
        reason: `no file for input${missing.length > 1 ? 's' : ''} ${missing.map((i) => `'${i.name}'`).join(', ')}`,
        location: typeof source === 'string' ? { file: source } : undefined,
        expected: `${missing[0]!.name}.npy, ${missing[0]!.name}.pb or input_${positional.indexOf(missing[0]!)}.pb`,
      });
    }
  }
  return feeds;
}

function statSafe(path: string) {
  try {
    return statSync(path);
  } catch (cause) {
    throw runtimeError({ reason: `input path '${path}' does not exist`, location: { file: path }, cause });
  }
}

function checkAgainstInput(tensor: Tensor, input: Value, file: string): void {
  const type = input.type;
  if (type.kind !== 'tensor') return;
  const actual = formatType({ kind: 'tensor', dtype: tensor.dtype, shape: tensor.shape });
  const fail = (what: string) =>
    runtimeError({ reason: `file '${file}' does not fit input '${input.name}': ${what}`, location: { file }, expected: formatType(type), actual });
  if (type.dtype !== tensor.dtype) throw fail('wrong dtype');
  if (type.shape === null) return;
  if (type.shape.length !== tensor.rank) throw fail('wrong rank');
  type.shape.forEach((dim, axis) => {
    if (typeof dim === 'number' && dim >= 0 && dim !== tensor.shape[axis]) throw fail(`axis ${axis} has size ${tensor.shape[axis]}`);
  });
}

/** An ONNX test data set (`test_data_set_N/`): inputs and expected outputs by name. */
export interface TestDataSet {
  readonly inputs: Map<string, Tensor>;
  readonly outputs: Map<string, Tensor>;
}

/**
 * Loads an ONNX test data set folder for `model`: `input_N` files as feeds (see `loadInputs`) and
 * `output_N` (or `<output name>`) files as the expected outputs, by the model's output order.
 */
export function loadTestDataSet(dir: string, model: Model): TestDataSet {
  const inputs = loadInputs(dir, model);
  const outputs = new Map<string, Tensor>();
  const outputValues = model.graph.outputs;
  for (const file of listTensorFiles(dir)) {
    const stem = basename(file, extname(file));
    const match = OUTPUT_FILE.exec(stem) ? Number(stem.slice('output_'.length)) : undefined;
    if (match === undefined) continue;
    const output = outputValues[match];
    if (!output) {
      throw runtimeError({ reason: `file '${file}' is expected output #${match}, but the model has ${outputValues.length} outputs`, location: { file } });
    }
    outputs.set(output.name, readTensorFile(file));
  }
  return { inputs, outputs };
}
