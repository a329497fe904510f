/**
 * The ONNX message layout (field number → kind) the structure-aware mutator descends through.
 * Facts from onnx.proto (IR 10+); kinds: 'msg:<Name>', 'string', 'bytes', 'int' (varint),
 * 'ints' (repeated int64, packed or not), 'float', 'floats', 'double', 'doubles'.
 */
export const ONNX_MESSAGES = {
  ModelProto: { 1: 'int', 2: 'string', 3: 'string', 4: 'string', 5: 'int', 6: 'string', 7: 'msg:GraphProto', 8: 'msg:OperatorSetIdProto', 14: 'msg:StringStringEntryProto', 20: 'msg:TrainingInfoProto', 25: 'msg:FunctionProto' },
  OperatorSetIdProto: { 1: 'string', 2: 'int' },
  StringStringEntryProto: { 1: 'string', 2: 'string' },
  TrainingInfoProto: { 1: 'msg:GraphProto', 2: 'msg:GraphProto', 3: 'msg:StringStringEntryProto', 4: 'msg:StringStringEntryProto' },
  GraphProto: { 1: 'msg:NodeProto', 2: 'string', 5: 'msg:TensorProto', 10: 'string', 11: 'msg:ValueInfoProto', 12: 'msg:ValueInfoProto', 13: 'msg:ValueInfoProto', 14: 'msg:TensorAnnotation', 15: 'msg:SparseTensorProto', 16: 'msg:StringStringEntryProto' },
  TensorAnnotation: { 1: 'string', 2: 'msg:StringStringEntryProto' },
  NodeProto: { 1: 'string', 2: 'string', 3: 'string', 4: 'string', 5: 'msg:AttributeProto', 6: 'string', 7: 'string', 8: 'string', 9: 'msg:StringStringEntryProto' },
  AttributeProto: { 1: 'string', 2: 'float', 3: 'int', 4: 'bytes', 5: 'msg:TensorProto', 6: 'msg:GraphProto', 7: 'floats', 8: 'ints', 9: 'bytes', 10: 'msg:TensorProto', 11: 'msg:GraphProto', 13: 'string', 14: 'msg:TypeProto', 15: 'msg:TypeProto', 20: 'int', 21: 'string', 22: 'msg:SparseTensorProto', 23: 'msg:SparseTensorProto' },
  ValueInfoProto: { 1: 'string', 2: 'msg:TypeProto', 3: 'string', 4: 'msg:StringStringEntryProto' },
  TypeProto: { 1: 'msg:TypeTensor', 4: 'msg:TypeSequence', 5: 'msg:TypeMap', 6: 'string', 7: 'msg:TypeOpaque', 8: 'msg:TypeTensor', 9: 'msg:TypeSequence' },
  TypeTensor: { 1: 'int', 2: 'msg:TensorShapeProto' },
  TypeSequence: { 1: 'msg:TypeProto' },
  TypeMap: { 1: 'int', 2: 'msg:TypeProto' },
  TypeOpaque: { 1: 'string', 2: 'string' },
  TensorShapeProto: { 1: 'msg:Dimension' },
  Dimension: { 1: 'int', 2: 'string', 3: 'string' },
  TensorProto: { 1: 'ints', 2: 'int', 3: 'msg:Segment', 4: 'floats', 5: 'ints', 6: 'bytes', 7: 'ints', 8: 'string', 9: 'bytes', 10: 'doubles', 11: 'ints', 12: 'string', 13: 'msg:StringStringEntryProto', 14: 'int', 16: 'msg:StringStringEntryProto' },
  Segment: { 1: 'int', 2: 'int' },
  SparseTensorProto: { 1: 'msg:TensorProto', 2: 'msg:TensorProto', 3: 'ints' },
  FunctionProto: { 1: 'string', 4: 'string', 5: 'string', 6: 'string', 7: 'msg:NodeProto', 8: 'string', 9: 'msg:OperatorSetIdProto', 10: 'string', 11: 'msg:AttributeProto', 12: 'msg:ValueInfoProto', 13: 'string', 14: 'msg:StringStringEntryProto' },
};

/** Names the ONNX importer looks at: op types, domains, dtype numbers, attribute types. */
export const ONNX_OP_TYPES = ['Add', 'Conv', 'Gemm', 'MatMul', 'Relu', 'Reshape', 'Constant', 'If', 'Loop', 'Scan', 'Cast', 'Gather', 'Concat', 'Split', 'Slice', 'Shape', 'Expand', 'Transpose', 'BatchNormalization', 'QuantizeLinear', 'DequantizeLinear', 'Identity', 'Softmax', 'LayerNormalization', 'ConstantOfShape', 'Pad', 'NoSuchOp', ''];
export const ONNX_DOMAINS = ['', 'ai.onnx', 'ai.onnx.ml', 'com.microsoft', 'ai.onnx.preview.training', 'x.y', '\u0000', 'ai.onnx.ml.\u00e9'];
