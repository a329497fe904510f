/**
 * Random inputs for a model: one tensor per graph input, drawn from a seeded generator so the same
 * seed gives the same inputs everywhere. Symbolic dimensions take the sizes the caller gives.
 */
import { Tensor, elementCount, formatType, isFloatDType, type DType, type Dim, type Model, type Value } from '@modelpass/ir';
import { formatBytes, generationBytes } from './byte-sizes.js';
import { integerRange } from '@modelpass/ops';
import { runtimeError } from './errors.js';
import { indexInputBounds } from './index-input-ranges.js';
import { SeededRandom } from './prng.js';

/** An inclusive-exclusive value range `[min, max)` for floats, inclusive `[min, max]` for integers. */
export type ValueRange = readonly [min: number, max: number];

export interface GenerateInputsOptions {
  /** Seed of the generator (default 0). Each input draws from its own stream derived from its name. */
  readonly seed?: number;
  /** Sizes of symbolic dimensions by name, e.g. `{ N: 1, seq: 16 }`. */
  readonly dims?: Readonly<Record<string, number>>;
  /**
   * Size for symbolic or unknown dimensions that `dims` does not name. Without it such a dimension is
   * an error naming the input and the dimension.
   */
  readonly defaultDim?: number;
  /** Full shapes by input name; they win over the declared shape. */
  readonly shapes?: Readonly<Record<string, readonly number[]>>;
  /**
   * Value ranges by input name (default: floats in [-1, 1), integers in [0, 9]; an integer input that indexes
   * a table with fewer than 10 rows, e.g. token ids read by a Gather, stays within its rows: see `generatedIndexRanges`).
   */
  readonly ranges?: Readonly<Record<string, ValueRange>>;
  /** Also generate inputs that have a default value (initializer inputs); default false. */
  readonly includeDefaults?: boolean;
  /**
   * Bytes generation may take (default 4 GiB, Node's default heap on a 64-bit machine; compareModels checks
   * against the heap limit it runs with first); past it, an error before anything is drawn.
   */
  readonly memoryBudget?: number;
}

export const DEFAULT_FLOAT_RANGE: ValueRange = [-1, 1];
export const DEFAULT_INTEGER_RANGE: ValueRange = [0, 9];

/** Graph inputs that need a feed: those without a default value (unless `includeDefaults`). */
export function feedableInputs(model: Model, includeDefaults = false): Value[] {
  return model.graph.inputs.filter((input) => includeDefaults || input.constant === undefined);
}

export function generateInputs(model: Model, options: GenerateInputsOptions = {}): Map<string, Tensor> {
  const seed = options.seed ?? 0;
  const feeds = new Map<string, Tensor>();
  const unknownShapeNames = Object.keys(options.shapes ?? {}).filter((name) => !model.graph.inputs.some((i) => i.name === name));
  const unknownRangeNames = Object.keys(options.ranges ?? {}).filter((name) => !model.graph.inputs.some((i) => i.name === name));
  for (const [option, names] of [['shapes', unknownShapeNames], ['ranges', unknownRangeNames]] as const) {
    if (names.length > 0) {
      throw runtimeError({
        reason: `option '${option}' names '${names[0]}', which is not an input of the model`,
        location: locationOf(model),
        expected: `one of ${model.graph.inputs.map((i) => `'${i.name}'`).join(', ')}`,
      });
    }
  }
  const planned: { input: Value; dtype: DType; shape: readonly number[] }[] = [];
  for (const input of feedableInputs(model, options.includeDefaults)) {
    const type = input.type;
    if (type.kind !== 'tensor') {
      throw runtimeError({
        reason: `cannot generate input '${input.name}': it is not a tensor`,
        location: locationOf(model),
        actual: formatType(type),
        hint: 'pass this input yourself',
      });
    }
    planned.push({ input, dtype: type.dtype, shape: options.shapes?.[input.name] ?? resolveShape(model, input.name, type.shape, options) });
  }
  checkGenerationBudget(model, planned, options.memoryBudget ?? DEFAULT_GENERATION_BUDGET);
  const indexRanges = generatedIndexRanges(model, options);
  for (const { input, dtype, shape } of planned) {
    const range = options.ranges?.[input.name] ?? indexRanges.get(input.name)?.range;
    const random = SeededRandom.forLabel(seed, input.name);
    feeds.set(input.name, randomTensor(dtype, shape, random, range, input.name, model));
  }
  return feeds;
}

/** An integer input's range held below the default because its values index a table. */
export interface GeneratedIndexRange {
  readonly range: ValueRange;
  /** The reader whose table bounds it, e.g. `Gather '/e/Gather' indexes axis 0 of size 5`. */
  readonly reader: string;
}

/**
 * The integer inputs `generateInputs` draws from a range smaller than the default `[0, 9]` because they index
 * a table with fewer rows (a Gather's data on its axis; the smallest over several readers), so ONNX Runtime
 * does not refuse them as out of bounds. Inputs given a range in `options.ranges` are not listed.
 */
export function generatedIndexRanges(model: Model, options: Pick<GenerateInputsOptions, 'ranges' | 'includeDefaults'> = {}): Map<string, GeneratedIndexRange> {
  const ranges = new Map<string, GeneratedIndexRange>();
  const feedable = new Set(feedableInputs(model, options.includeDefaults).map((input) => input.name));
  for (const [name, bound] of indexInputBounds(model)) {
    if (!feedable.has(name) || options.ranges?.[name] !== undefined) continue;
    const max = bound.size - 1;
    if (max < DEFAULT_INTEGER_RANGE[1]) ranges.set(name, { range: [DEFAULT_INTEGER_RANGE[0], max], reader: bound.reader });
  }
  return ranges;
}

/** 4 GiB: this module runs in the browser page too, so it does not ask node:v8 for the heap limit. */
const DEFAULT_GENERATION_BUDGET = 4 * 1024 ** 3;

/**
 * Refuses, before anything is drawn, inputs whose generation (a JavaScript number per element, then the
 * tensor) would pass `budget` bytes: a declared [1, 3000000000] would otherwise take the process down.
 */
function checkGenerationBudget(model: Model, planned: readonly { input: Value; dtype: DType; shape: readonly number[] }[], budget: number): void {
  const needed = generationBytes(planned);
  if (needed <= budget) return;
  throw runtimeError({
    reason: `generating the inputs would need about ${formatBytes(needed)}, more than the ${formatBytes(budget)} this process may use`,
    location: locationOf(model),
    notes: [`inputs ${planned.map((p) => `'${p.input.name}' ${p.dtype}[${p.shape.join(',')}]`).join(', ')}`],
    hint: 'use smaller inputs (--dim NAME=SIZE for a symbolic dimension), or give input files',
  });
}

function locationOf(model: Model) {
  return model.sourcePath ? { file: model.sourcePath } : undefined;
}

function resolveShape(model: Model, inputName: string, shape: readonly Dim[] | null, options: GenerateInputsOptions): number[] {
  if (shape === null) {
    throw runtimeError({
      reason: `cannot generate input '${inputName}': its rank is unknown`,
      location: locationOf(model),
      hint: `give its shape: shapes: { '${inputName}': [...] }`,
    });
  }
  return shape.map((dim, axis) => {
    if (typeof dim === 'number') {
      if (dim >= 0) return dim;
    } else if (typeof dim === 'string' && options.dims?.[dim] !== undefined) {
      const size = options.dims[dim]!;
      if (!Number.isInteger(size) || size < 0) {
        throw runtimeError({ reason: `dimension '${dim}' must be a non-negative integer`, actual: String(size) });
      }
      return size;
    }
    if (options.defaultDim !== undefined) return options.defaultDim;
    const what = typeof dim === 'string' ? `symbolic dimension '${dim}'` : `unknown dimension`;
    throw runtimeError({
      reason: `input '${inputName}' has a ${what} at axis ${axis} and no size was given for it`,
      location: locationOf(model),
      actual: formatType({ kind: 'tensor', dtype: 'float32', shape }).replace(/^float32/, ''),
      hint: typeof dim === 'string'
        ? `give it a size: dims: { ${dim}: 1 } or defaultDim in code; on the command line --dim ${dim}=1 (compare) or --input-shape ${inputName}=DIMS (convert)`
        : `give the input a shape: defaultDim in code; --input-shape ${inputName}=DIMS on the command line`,
    });
  });
}

/**
 * The values an integer dtype can take, within what `SeededRandom.integer` draws exactly
 * (int64 and uint64 are held to ±2^53).
 */
function integerLimits(dtype: DType): ValueRange | undefined {
  const range = integerRange(dtype);
  return range && [Math.max(range.min, -(2 ** 53)), Math.min(range.max, 2 ** 53)];
}

/** A tensor of random values for `dtype` and `shape`. */
export function randomTensor(dtype: DType, shape: readonly number[], random: SeededRandom, range?: ValueRange, name = 'tensor', model?: Model): Tensor {
  const count = elementCount(shape);
  if (dtype === 'string') {
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    const strings = Array.from({ length: count }, () =>
      Array.from({ length: random.integer(1, 8) }, () => letters[random.integer(0, 25)]).join(''),
    );
    return Tensor.fromStrings(shape, strings);
  }
  if (dtype === 'bool') {
    return Tensor.fromValues(dtype, shape, Array.from({ length: count }, () => random.nextUint32() & 1));
  }
  if (isFloatDType(dtype)) {
    const [min, max] = range ?? DEFAULT_FLOAT_RANGE;
    // A typed array, not Array.from: a calibration's random batches (e.g. 64×3×224×224) were
    // ~20 MB of JavaScript array each, garbage that grew peak RSS with the number of samples.
    const values = new Float64Array(count);
    for (let i = 0; i < count; i++) values[i] = random.uniform(min, max);
    return Tensor.fromValues(dtype, shape, values);
  }
  const limits = integerLimits(dtype);
  if (!limits) {
    throw runtimeError({
      reason: `cannot generate values for input '${name}' of dtype ${dtype}`,
      ...(model ? { location: locationOf(model) } : {}),
      hint: 'pass this input yourself',
    });
  }
  const [min, max] = range ?? DEFAULT_INTEGER_RANGE;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < limits[0] || max > limits[1] || min > max) {
    throw runtimeError({
      reason: `range [${min}, ${max}] for input '${name}' does not fit ${dtype}`,
      expected: `integers within [${limits[0]}, ${limits[1]}]`,
    });
  }
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) values[i] = random.integer(min, max);
  if (dtype === 'int64' || dtype === 'uint64') return Tensor.fromValues(dtype, shape, Array.from(values, (v) => BigInt(v)));
  return Tensor.fromValues(dtype, shape, values);
}
