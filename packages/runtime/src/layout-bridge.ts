/**
 * `compare` of an ONNX model (NCHW) with its TFLite conversion made with io-layout=nhwc: the same images
 * are fed to both, channels-last to the second, and its channels-last outputs are read back as NCHW —
 * for ranks 3 to 5 (NCL of a Conv1d net ↔ NLC, NCHW ↔ NHWC, NCDHW of a Conv3d net ↔ NDHWC), and
 * only where the second model's declared shapes are exactly the NHWC permutation of the first's, and
 * outputs only when some input was bridged (a model that transposes an output on its own is still
 * reported as a disagreement). Each bridged tensor is named in a note.
 *
 * A file whose conversion recorded which inputs and outputs it made channels-last (the TFLite metadata
 * entry `modelpass.io_layout` that legalize-tflite{io-layout=nhwc} writes) is bridged by that record
 * instead: exactly the tensors it lists, also where an NCHW shape and its NHWC permutation are equal
 * (`[1, 8, 8, 8]`), which the shapes alone cannot tell. A listed tensor is still bridged only where the
 * second model's shape is the NHWC permutation of the first's (so a feed already channels-last is not
 * permuted twice), and not where the first model's own record lists it too (both channels-last).
 */
import type { Dim, Model, Tensor } from '@modelpass/ir';
import { channelsLastIoOf } from '@modelpass/tflite';
import { channelsFirstPermutation, channelsLastPermutation, permuteDims, transposeTensor } from '@modelpass/transforms';

/** The ranks with a channel axis that io-layout=nhwc moves last: [N, C, …spatial] with 1 to 3 spatial dims. */
const BRIDGED_RANKS = new Set([3, 4, 5]);

function sameDims(declared: readonly Dim[], actual: readonly number[]): boolean {
  return declared.length === actual.length && declared.every((dim, i) => typeof dim !== 'number' || dim === actual[i]);
}

/** Whether a model declaring `declared` wants the NHWC form of an NCHW `shape` (and not `shape` itself). */
function wantsChannelsLast(declared: readonly Dim[] | null | undefined, shape: readonly number[]): boolean {
  if (!declared || !BRIDGED_RANKS.has(shape.length)) return false;
  const nhwc = permuteDims(shape, channelsLastPermutation(shape.length));
  if (nhwc.every((d, i) => d === shape[i])) return false;
  return sameDims(declared, nhwc) && !sameDims(declared, shape);
}

/** Whether `declared` is the NHWC permutation of an NCHW `shape` (equal to it or not). */
function permutedChannelsLast(declared: readonly Dim[] | null | undefined, shape: readonly number[]): boolean {
  return !!declared && BRIDGED_RANKS.has(shape.length) && sameDims(declared, permuteDims(shape, channelsLastPermutation(shape.length)));
}

/** The names the second model's io-layout record lists and the first model's does not; `undefined` without a record. */
function recordedChannelsLast(second: Model, first: Model | undefined): { inputs: Set<string>; outputs: Set<string> } | undefined {
  const record = channelsLastIoOf(second);
  if (!record) return undefined;
  const own = first ? channelsLastIoOf(first) : undefined;
  const minus = (names: readonly string[], others: readonly string[] | undefined): Set<string> => new Set(names.filter((name) => !others?.includes(name)));
  return { inputs: minus(record.inputs, own?.inputs), outputs: minus(record.outputs, own?.outputs) };
}

/** Equal dims, where a static dim matches only the same static dim and a symbolic one only a symbolic one. */
function sameDeclaredDims(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((dim, i) => (typeof dim === 'number' ? dim === b[i] : typeof b[i] !== 'number'));
}

/**
 * Whether the second model declares an input as the NHWC form of the first model's declaration of it,
 * judged from the declarations alone: `[b,1,h,w]` against `[b,h,w,1]`. It decides where the feed cannot
 * (a feed of `[1,1,1,1]` is the same either way, yet the model lays its outputs channels-last).
 */
function declaredChannelsLast(first: readonly Dim[] | null | undefined, second: readonly Dim[] | null | undefined): boolean {
  if (!first || !second || !BRIDGED_RANKS.has(first.length)) return false;
  return sameDeclaredDims(second, permuteDims(first, channelsLastPermutation(first.length))) && !sameDeclaredDims(second, first);
}

/**
 * Inputs that the first model's io-layout record lists as channels-last (a `.tflite` converted with --io-layout nhwc)
 * and that the second model takes without such a record. The bridge lays feeds out for the second model only, so such
 * a pair would feed the NCHW model NHWC tensors and fail in its engine (QA s20: ORT's "index: 2 Got: 32 Expected: 24").
 */
export function channelsLastOnlyInFirst(first: Model, second: Model): string[] {
  const record = recordedChannelsLast(first, second);
  if (!record) return [];
  return [...record.inputs].filter((name) => second.graph.inputs.some((value) => value.name === name));
}

export interface LayoutBridge {
  /** The feeds for the second model, channels-last where it declares its input so. */
  readonly feeds: Map<string, Tensor>;
  /** Input names fed channels-last. */
  readonly inputs: readonly string[];
  /**
   * The outputs the second model's io-layout record lists as channels-last (read back by `bridgeOutputs`
   * whether or not an input was bridged); `undefined` where it has no record and the shapes decide.
   */
  readonly recordedOutputs?: ReadonlySet<string>;
}

/**
 * The second model's feeds: inputs it declares as the NHWC permutation of the given NCHW feed are
 * transposed. With the `first` model, an input whose feed is the same in both layouts (all of N, C and
 * the spatial dims but one are 1) counts as bridged when the two declarations say channels-last, so
 * the outputs are read back too.
 */
export function bridgeInputs(feeds: ReadonlyMap<string, Tensor>, second: Model, first?: Model): LayoutBridge {
  const bridged = new Map(feeds);
  const inputs: string[] = [];
  const recorded = recordedChannelsLast(second, first);
  for (const [name, tensor] of feeds) {
    const input = second.graph.inputs.find((value) => value.name === name);
    const type = input?.type;
    if (!type || type.kind !== 'tensor') continue;
    if (recorded) {
      if (recorded.inputs.has(name) && permutedChannelsLast(type.shape, tensor.shape)) {
        bridged.set(name, transposeTensor(tensor, channelsLastPermutation(tensor.shape.length)));
        inputs.push(name);
      }
      continue;
    }
    if (wantsChannelsLast(type.shape, tensor.shape)) {
      bridged.set(name, transposeTensor(tensor, channelsLastPermutation(tensor.shape.length)));
      inputs.push(name);
      continue;
    }
    const firstType = first?.graph.inputs.find((value) => value.name === name)?.type;
    const sameBytes = BRIDGED_RANKS.has(tensor.shape.length) && permuteDims(tensor.shape, channelsLastPermutation(tensor.shape.length)).every((d, i) => d === tensor.shape[i]);
    if (sameBytes && firstType?.kind === 'tensor' && declaredChannelsLast(firstType.shape, type.shape)) {
      bridged.set(name, transposeTensor(tensor, channelsLastPermutation(tensor.shape.length)));
      inputs.push(name);
    }
  }
  return recorded ? { feeds: bridged, inputs, recordedOutputs: recorded.outputs } : { feeds: bridged, inputs };
}

/**
 * The second model's outputs read back as NCHW where they are the NHWC permutation of the first's (names
 * listed in `outputs`). With `recorded` (the bridge's `recordedOutputs`), only those named there are, and
 * also where the two shapes are equal.
 */
export function bridgeOutputs(first: ReadonlyMap<string, Tensor>, second: ReadonlyMap<string, Tensor>, recorded?: ReadonlySet<string>): { outputs: Map<string, Tensor>; bridged: string[] } {
  const outputs = new Map(second);
  const bridged: string[] = [];
  for (const [name, tensor] of second) {
    const reference = first.get(name);
    if (!reference) continue;
    if (recorded ? !recorded.has(name) || !permutedChannelsLast(tensor.shape, reference.shape) : !wantsChannelsLast(tensor.shape, reference.shape)) continue;
    outputs.set(name, transposeTensor(tensor, channelsFirstPermutation(tensor.shape.length)));
    bridged.push(name);
  }
  return { outputs, bridged };
}
