/**
 * Known gaps of the reference interpreter and of `inferShapes` on the real-model corpus, committed
 * so regressions are caught: real-models-reference.test.ts fails when a model lacks a kernel that
 * is not listed here, or when an output shape that is not listed here is not inferred exactly.
 * When a gap closes, the test says so; remove the entry then.
 */

/** Per model id: ops without a reference kernel (so the interpreter cannot run the model). */
export const KNOWN_MISSING_KERNELS: Readonly<Record<string, readonly string[]>> = {
  'silero-vad-legacy': ['onnx.LSTM'],
  'silero-vad-v5': ['onnx.LSTM'],
  'silero-vad-v6': ['onnx.LSTM'],
};

/**
 * Per model id: graph outputs whose shape `inferShapes` does not fully infer from the concrete
 * input shapes (unknown rank or dims where ONNX Runtime returns a concrete shape), with why.
 * A wrong static dim is never a known gap: it always fails.
 */
export const KNOWN_INCOMPLETE_SHAPES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'silero-vad-legacy': {
    output: 'If branches (16 kHz / 8 kHz) end in LSTM, which has no type inference, and the branches differ',
    hn: 'as output: LSTM state from If branches',
    cn: 'as output: LSTM state from If branches',
  },
  'silero-vad-v5': {
    output: 'If branches (16 kHz / 8 kHz) end in LSTM, which has no type inference, and the branches differ',
    stateN: 'as output: LSTM state from If branches',
  },
  'silero-vad-v6': {
    output: 'If branches (16 kHz / 8 kHz) end in LSTM, which has no type inference, and the branches differ',
    stateN: 'as output: LSTM state from If branches',
  },
  'ppocr-v4-det': {
    'sigmoid_0.tmp_0': 'Resize scales come from Constant nodes, and InferenceContext.inputConstant sees initializers only',
  },
  'ppocr-mobile-v2-cls': {
    'softmax_0.tmp_0': 'the Reshape target shape comes from a Constant node, and InferenceContext.inputConstant sees initializers only',
  },
};
