/**
 * The ONNX op names onnx2tf converts (one per file of its `onnx2tf/ops/*.py`, 210 names, read at
 * commit 2c0cb019b77b of github.com/PINTO0309/onnx2tf): a plain list of names, the yardstick of
 * `onnx2tfCoverage`. `Input` is onnx2tf's graph-input handler, not an ONNX op.
 */
export const ONNX2TF_OPS: readonly string[] = [
  'Abs', 'Acos', 'Acosh', 'Add', 'AffineGrid', 'And', 'ArgMax', 'ArgMin', 'Asin', 'Asinh', 'Atan', 'Atanh',
  'Attention', 'AveragePool', 'BatchNormalization', 'Bernoulli', 'BitShift', 'BitwiseAnd', 'BitwiseNot', 'BitwiseOr',
  'BitwiseXor', 'BlackmanWindow', 'Cast', 'Ceil', 'Celu', 'CenterCropPad', 'Clip', 'Col2Im', 'Compress', 'Concat',
  'ConcatFromSequence', 'Constant', 'ConstantOfShape', 'Conv', 'ConvInteger', 'ConvTranspose', 'Cos', 'Cosh',
  'CumProd', 'CumSum', 'DFT', 'DeformConv', 'DepthToSpace', 'DequantizeLinear', 'Det', 'Div', 'Dropout',
  'DynamicQuantizeLinear', 'Einsum', 'Elu', 'Equal', 'Erf', 'Exp', 'Expand', 'EyeLike', 'Flatten', 'Floor',
  'FusedConv', 'GRU', 'Gather', 'GatherElements', 'GatherND', 'Gelu', 'Gemm', 'GlobalAveragePool', 'GlobalLpPool',
  'GlobalMaxPool', 'Greater', 'GreaterOrEqual', 'GridSample', 'GroupNorm', 'GroupNormalization', 'HammingWindow',
  'HannWindow', 'HardSigmoid', 'HardSwish', 'Hardmax', 'Identity', 'If', 'ImageDecoder', 'Input',
  'InstanceNormalization', 'Inverse', 'IsInf', 'IsNaN', 'LRN', 'LSTM', 'LayerNormalization', 'LeakyRelu', 'Less',
  'LessOrEqual', 'Log', 'LogSoftmax', 'Loop', 'LpNormalization', 'LpPool', 'MatMul', 'MatMulInteger', 'Max',
  'MaxPool', 'MaxRoiPool', 'MaxUnpool', 'Mean', 'MeanVarianceNormalization', 'MelWeightMatrix', 'Min', 'Mish', 'Mod',
  'Mul', 'Multinomial', 'Neg', 'NegativeLogLikelihoodLoss', 'NonMaxSuppression', 'NonZero', 'Not', 'OneHot',
  'Optional', 'OptionalGetElement', 'OptionalHasElement', 'Or', 'PRelu', 'Pad', 'Pow', 'QGemm', 'QLinearAdd',
  'QLinearAveragePool', 'QLinearConcat', 'QLinearConv', 'QLinearGlobalAveragePool', 'QLinearLeakyRelu',
  'QLinearMatMul', 'QLinearMul', 'QLinearSigmoid', 'QLinearSoftmax', 'QuantizeLinear', 'RMSNormalization', 'RNN',
  'RandomNormal', 'RandomNormalLike', 'RandomUniform', 'RandomUniformLike', 'Range', 'Reciprocal', 'ReduceL1',
  'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceMax', 'ReduceMean', 'ReduceMin', 'ReduceProd', 'ReduceSum',
  'ReduceSumSquare', 'RegexFullMatch', 'Relu', 'Reshape', 'Resize', 'ReverseSequence', 'RoiAlign', 'RotaryEmbedding',
  'Round', 'STFT', 'ScaleAndTranslate', 'Scan', 'Scatter', 'ScatterElements', 'ScatterND', 'Selu', 'SequenceAt',
  'SequenceConstruct', 'SequenceEmpty', 'SequenceErase', 'SequenceInsert', 'SequenceLength', 'Shape', 'Shrink',
  'Sigmoid', 'Sign', 'Sin', 'Sinh', 'Size', 'Slice', 'Softmax', 'SoftmaxCrossEntropyLoss', 'Softplus', 'Softsign',
  'SpaceToDepth', 'Split', 'SplitToSequence', 'Sqrt', 'Squeeze', 'StringConcat', 'StringNormalizer', 'StringSplit',
  'Sub', 'Sum', 'Tan', 'Tanh', 'TensorScatter', 'TfIdfVectorizer', 'ThresholdedRelu', 'Tile', 'TopK', 'Transpose',
  'Trilu', 'Unique', 'Unsqueeze', 'Upsample', 'Where', 'Xor',
];
