/**
 * `compare` of an ONNX model (NCHW) with its TFLite conversion made with io-layout=nhwc: the same images
 * are fed to both, channels-last to the second, and its channels-last outputs are read back as NCHW —
 * for ranks 3 to 5 (NCL of a Conv1d net ↔ NLC, NCHW ↔ NHWC, NCDHW of a Conv3d net ↔ NDHWC), and
 * only where the second model's declared shapes are exactly the NHWC permutation of the first's, and
 * outputs only when some input was bridged (a model that transposes an output on its own is still
 * reported as a disagreement). Each bridged tensor is named in a note.
 */
import type { Dim, Model, Tensor } from '@modelpass/ir';
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

export interface LayoutBridge {
  /** The feeds for the second model, channels-last where it declares its input so. */
  readonly feeds: Map<string, Tensor>;
  /** Input names fed channels-last. */
  readonly inputs: readonly string[];
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
  for (const [name, tensor] of feeds) {
    const input = second.graph.inputs.find((value) => value.name === name);
    const type = input?.type;
    if (!type || type.kind !== 'tensor') continue;
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
  return { feeds: bridged, inputs };
}

/** The second model's outputs read back as NCHW where they are the NHWC permutation of the first's (names listed in `outputs`). */
export function bridgeOutputs(first: ReadonlyMap<string, Tensor>, second: ReadonlyMap<string, Tensor>): { outputs: Map<string, Tensor>; bridged: string[] } {
  const outputs = new Map(second);
  const bridged: string[] = [];
  for (const [name, tensor] of second) {
    const reference = first.get(name);
    if (!reference || !wantsChannelsLast(tensor.shape, reference.shape)) continue;
    outputs.set(name, transposeTensor(tensor, channelsFirstPermutation(tensor.shape.length)));
    bridged.push(name);
  }
  return { outputs, bridged };
}
