/**
 * A TFLite SignatureDef as modelpass keeps it in model metadata (`tflite.signature_defs`, JSON):
 * tensors by IR value name (the signature's inputs and outputs are the subgraph's), so passes that
 * renumber tensors do not break it.
 */
export interface SignatureDefJson {
  readonly key: string;
  /** `main`, or the function name of another subgraph (`subgraph_<i>`). */
  readonly subgraph: string;
  readonly inputs: readonly { readonly name: string; readonly tensor: string }[];
  readonly outputs: readonly { readonly name: string; readonly tensor: string }[];
}
