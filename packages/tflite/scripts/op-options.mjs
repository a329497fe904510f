// Which options table each BuiltinOperator uses. The schema does not say it; TFLite's own mapping
// (flatbuffer_conversions.cc, the converter's op definitions) pairs them. Most follow the naming
// rule (CONV_2D ↔ Conv2DOptions, STABLEHLO_SLICE ↔ StablehloSliceOptions); the rest are listed here.

/** Operators whose table does not follow the naming rule. `null`: the operator takes no options. */
const EXCEPTIONS = {
  AVERAGE_POOL_2D: 'Pool2DOptions',
  MAX_POOL_2D: 'Pool2DOptions',
  L2_POOL_2D: 'Pool2DOptions',
  L2_NORMALIZATION: 'L2NormOptions',
  LSTM: 'LSTMOptions',
  RNN: 'RNNOptions',
  SVDF: 'SVDFOptions',
  LSH_PROJECTION: 'LSHProjectionOptions',
  UNIDIRECTIONAL_SEQUENCE_RNN: 'SequenceRNNOptions',
  UNIDIRECTIONAL_SEQUENCE_LSTM: 'UnidirectionalSequenceLSTMOptions',
  BIDIRECTIONAL_SEQUENCE_LSTM: 'BidirectionalSequenceLSTMOptions',
  BIDIRECTIONAL_SEQUENCE_RNN: 'BidirectionalSequenceRNNOptions',
  MEAN: 'ReducerOptions',
  SUM: 'ReducerOptions',
  REDUCE_PROD: 'ReducerOptions',
  REDUCE_MAX: 'ReducerOptions',
  REDUCE_MIN: 'ReducerOptions',
  REDUCE_ANY: 'ReducerOptions',
  REDUCE_ALL: 'ReducerOptions',
  MAXIMUM: 'MaximumMinimumOptions',
  MINIMUM: 'MaximumMinimumOptions',
  LOG_SOFTMAX: 'LogSoftmaxOptions',
  TOPK_V2: 'TopKV2Options',
  SPLIT_V: 'SplitVOptions',
  PADV2: 'PadV2Options',
  SELECT_V2: 'SelectV2Options',
  REVERSE_V2: 'ReverseV2Options',
  HARD_SWISH: 'HardSwishOptions',
  ADD_N: 'AddNOptions',
  GATHER_ND: 'GatherNdOptions',
  SCATTER_ND: 'ScatterNdOptions',
  NON_MAX_SUPPRESSION_V4: 'NonMaxSuppressionV4Options',
  NON_MAX_SUPPRESSION_V5: 'NonMaxSuppressionV5Options',
  RFFT2D: 'Rfft2dOptions',
  BATCH_MATMUL: 'BatchMatMulOptions',
  FAKE_QUANT: 'FakeQuantOptions',
  ARG_MAX: 'ArgMaxOptions',
  ARG_MIN: 'ArgMinOptions',
  CONCATENATION: 'ConcatenationOptions',
  LOCAL_RESPONSE_NORMALIZATION: 'LocalResponseNormalizationOptions',
  EMBEDDING_LOOKUP_SPARSE: 'EmbeddingLookupSparseOptions',
  CONCAT_EMBEDDINGS: 'ConcatEmbeddingsOptions',
  SKIP_GRAM: 'SkipGramOptions',
  CALL: 'CallOptions',
  MATRIX_DIAG: 'MatrixDiagOptions',
  MATRIX_SET_DIAG: 'MatrixSetDiagOptions',
  SEGMENT_SUM: 'SegmentSumOptions',
  CUMSUM: 'CumsumOptions',
  HASHTABLE_FIND: 'HashtableFindOptions',
  HASHTABLE_IMPORT: 'HashtableImportOptions',
  HASHTABLE_SIZE: 'HashtableSizeOptions',
  VAR_HANDLE: 'VarHandleOptions',
  READ_VARIABLE: 'ReadVariableOptions',
  ASSIGN_VARIABLE: 'AssignVariableOptions',
  RANDOM_UNIFORM: 'RandomOptions',
  RANDOM_STANDARD_NORMAL: 'RandomOptions',
  MULTINOMIAL: 'RandomOptions',
  STABLEHLO_COMPOSITE: 'StableHLOCompositeOptions',
  ATAN2: 'ATan2Options',
  CONV_3D_TRANSPOSE: 'Conv3DOptions',
  // Operators whose table name looks like a match but which take no options in TFLite.
  CUSTOM: null,
  DELEGATE: null,
  PLACEHOLDER_FOR_GREATER_OP_CODES: null,
  REDUCE_WINDOW: 'ReduceWindowOptions',
};

const normal = (name) => name.replace(/_/g, '').toLowerCase();

/** The options table of `operator` among `tables` (set of names), or undefined. */
export function optionsTableOf(operator, tables) {
  if (operator in EXCEPTIONS) {
    const table = EXCEPTIONS[operator];
    return table !== null && tables.has(table) ? table : undefined;
  }
  const wanted = `${normal(operator)}options`;
  for (const table of tables) if (table.toLowerCase() === wanted) return table;
  return undefined;
}
