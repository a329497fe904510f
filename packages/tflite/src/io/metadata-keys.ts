/** Keys modelpass keeps in IR metadata to write a TFLite model back as it was read. */

/** On a node: the operator's `OperatorCode.version` in the file it was read from. */
export const META_OPERATOR_VERSION = 'tflite.version';
/** On a value: the tensor's name in the file, when the IR had to rename it (TFLite names need not be unique). */
export const META_TENSOR_NAME = 'tflite.name';
/**
 * On a value of data-dependent length (WHERE, UNIQUE, a SLICE by a run-time count): its largest
 * shape, comma-separated, written as the tensor's `shape` (its `shape_signature` keeps -1 for the
 * run-time dims). Runtimes size buffers from `shape` when loading, so it must bound the run-time shape.
 */
export const META_SHAPE_BOUND = 'tflite.shape_bound';
/** On a constant: the tensor is a TFLite variable (`is_variable`; zero state, no buffer). */
export const META_VARIABLE = 'tflite.is_variable';
/** On the model: the signature defs, as JSON (`SignatureDefJson[]`). */
export const META_SIGNATURE_DEFS = 'tflite.signature_defs';
/** On the model: prefix of metadata entries (`tflite.metadata:<name>` → base64 of the buffer). */
export const META_METADATA_PREFIX = 'tflite.metadata:';
/** On the model: the model's `description`. */
export const META_DESCRIPTION = 'tflite.description';
