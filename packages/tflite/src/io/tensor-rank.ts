/**
 * The most dims a tensor of a .tflite file may have, for this package's reader and writer alike. TFLite's kernels stop
 * at 6 or 8; the reader refuses a longer shape vector (a hostile file could claim millions), so the writer refuses to
 * write one (QA s20 H: a rank-100000 input from a .mpir was written, and reading that file back said it was truncated).
 */
export const MAX_TENSOR_RANK = 64;
