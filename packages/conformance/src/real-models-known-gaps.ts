/**
 * Known gaps of the reference interpreter and of `inferShapes` on the real-model corpus, committed
 * so regressions are caught: real-models-reference.test.ts fails when a model lacks a kernel that
 * is not listed here, or when an output shape that is not listed here is not inferred exactly.
 * When a gap closes, the test says so; remove the entry then.
 */

/** Per model id: ops without a reference kernel (so the interpreter cannot run the model). */
export const KNOWN_MISSING_KERNELS: Readonly<Record<string, readonly string[]>> = {};

/**
 * Per model id: graph outputs whose shape `inferShapes` does not fully infer from the concrete
 * input shapes (unknown rank or dims where ONNX Runtime returns a concrete shape), with why.
 * A wrong static dim is never a known gap: it always fails.
 */
const SILERO_SAMPLE_RATE_BRANCH =
  "the sample rate sr is a run-time input, so the If on it keeps both branches; the branch for the other rate, fed this input's sample count, reaches shapes inference cannot rank (ORT itself fails on it), and a sound join with the taken branch's [N,1] is unranked (the join once took the ranked side: a silently wrong Shape fold elsewhere). With convert --input-value sr=16000 the If folds and the shape is exact";

export const KNOWN_INCOMPLETE_SHAPES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'silero-vad-v5': { output: SILERO_SAMPLE_RATE_BRANCH, stateN: SILERO_SAMPLE_RATE_BRANCH },
  'silero-vad-v6': { output: SILERO_SAMPLE_RATE_BRANCH, stateN: SILERO_SAMPLE_RATE_BRANCH },
};
