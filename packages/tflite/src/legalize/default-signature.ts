/**
 * A `serving_default` signature for a model converted to TFLite from another format: TensorFlow's
 * own converter writes one, and TFLite's signature runners (`get_signature_runner`, LiteRT's
 * `SignatureRunner`) find a model's inputs and outputs by it. Its inputs and outputs are the main
 * graph's, named as in the source model. A model read from a .tflite keeps the signatures it had —
 * none stays none, so a TFLite round trip adds nothing.
 */
import type { Model } from '@modelpass/ir';
import { META_SIGNATURE_DEFS } from '../io/metadata-keys.js';
import type { SignatureDefJson } from '../io/signature-defs.js';

export const DEFAULT_SIGNATURE_KEY = 'serving_default';

/** Records the default signature in `model`'s metadata unless it has signatures or came from a .tflite; returns whether it did. */
export function addDefaultSignature(model: Model): boolean {
  if (model.sourceFormat === 'tflite' || model.metadata.has(META_SIGNATURE_DEFS)) return false;
  const entries = (values: readonly { readonly name: string }[]) => values.map((value) => ({ name: value.name, tensor: value.name }));
  const signature: SignatureDefJson = { key: DEFAULT_SIGNATURE_KEY, subgraph: 'main', inputs: entries(model.graph.inputs), outputs: entries(model.graph.outputs) };
  model.metadata.set(META_SIGNATURE_DEFS, JSON.stringify([signature]));
  return true;
}
