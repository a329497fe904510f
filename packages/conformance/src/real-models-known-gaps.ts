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
export const KNOWN_INCOMPLETE_SHAPES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'silero-vad-legacy': {
    output:
      'produced through If (16 kHz / 8 kHz branches). Inside them the LSTM input comes from a Conv stack whose input is already unranked (an earlier If output), and the LSTM initial states are ConstantOfShape of a computed shape (Shape -> Gather -> Concat; inferShapes does no data propagation), so the batch dim is unknown in one LSTM of each branch and the branches merge to unknown',
    hn: 'as output: LSTM state from If branches, batch dim unknown (see output)',
    cn: 'as output: LSTM state from If branches, batch dim unknown (see output)',
  },
  'silero-vad-v5': {
    output:
      'produced through If (16 kHz / 8 kHz branches); inside them the LSTM inputs are Unsqueezes of nested If outputs (decoder/rnn/If*, chosen by Size of the state) that infer as unranked, so the decoder and the outputs stay unranked',
    stateN: 'as output: LSTM states through nested If outputs that infer as unranked',
  },
  'silero-vad-v6': {
    output:
      'produced through If (16 kHz / 8 kHz branches); inside them the LSTM inputs are Unsqueezes of nested If outputs (decoder/rnn/If*, chosen by Size of the state) that infer as unranked, so the decoder and the outputs stay unranked',
    stateN: 'as output: LSTM states through nested If outputs that infer as unranked',
  },
  'ppocr-v4-det': {
    'sigmoid_0.tmp_0':
      'the Resize scales come from Constant nodes, and InferenceContext.inputConstant (ir op-schema.ts) sees initializers only; with Constant outputs treated as constants the shape is exact. At batch 1 the Add after the Resize cannot pin the batch dim by broadcasting (at batch 2 it can)',
  },
  'ppocr-mobile-v2-cls': {
    'softmax_0.tmp_0':
      'the batch dim is lost at Reshape p2o.Reshape.36, whose target shape is computed (Shape -> Slice -> Cast, Concat with a Constant): inferShapes does no data propagation of shape arithmetic',
  },
};
