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

export interface LayoutBridge {
  /** The feeds for the second model, channels-last where it declares its input so. */
  readonly feeds: Map<string, Tensor>;
  /** Input names fed channels-last. */
  readonly inputs: readonly string[];
}

/** The second model's feeds: inputs it declares as the NHWC permutation of the given NCHW feed are transposed. */
export function bridgeInputs(feeds: ReadonlyMap<string, Tensor>, second: Model): LayoutBridge {
  const bridged = new Map(feeds);
  const inputs: string[] = [];
  for (const [name, tensor] of feeds) {
    const input = second.graph.inputs.find((value) => value.name === name);
    const type = input?.type;
    if (!type || type.kind !== 'tensor' || !wantsChannelsLast(type.shape, tensor.shape)) continue;
    bridged.set(name, transposeTensor(tensor, channelsLastPermutation(tensor.shape.length)));
    inputs.push(name);
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
