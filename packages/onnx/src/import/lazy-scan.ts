import { onnx, type OnnxTypes } from '../proto.js';
import { decodeStrict } from './strict-decode.js';
import { forEachField, gatherFields, WIRE_LENGTH_DELIMITED, type PositionedReader, type WireField } from './wire-reader.js';

/** ModelProto.graph, GraphProto.initializer and TensorProto.raw_data field numbers (onnx.proto). */
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;

/** Where a tensor's raw_data lies in the file. */
export interface RawDataRange {
  readonly offset: number;
  readonly length: number;
}

export interface ScannedModel {
  /** The model as protobufjs would decode it, except that large raw_data fields are left out... */
  readonly proto: OnnxTypes.ModelProto;
  /** ...and listed here, by the TensorProto they belong to. */
  readonly rawRanges: Map<OnnxTypes.TensorProto, RawDataRange>;
}

/**
 * Decodes a ModelProto from a file by walking its top-level structure in the wire format: the
 * envelope, the graph's fields and each initializer's fields are decoded by protobufjs from small
 * buffers, while every initializer `raw_data` of at least `minLazyBytes` bytes is skipped and
 * recorded as a byte range of the file. The result is what `onnx.ModelProto.decode` gives on the
 * whole file, with those raw_data fields moved to `rawRanges`. As in protobufjs (and the protobuf
 * spec), a message field given more than once is merged, a bytes field given more than once keeps
 * its last value, and a known field number with an unexpected wire type is skipped as unknown.
 */
export function scanModel(reader: PositionedReader, minLazyBytes: number, maxDepth: number): ScannedModel {
  const rawRanges = new Map<OnnxTypes.TensorProto, RawDataRange>();
  const envelopeFields: WireField[] = [];
  const graphFields: WireField[] = [];
  forEachField(reader, 0, reader.size, (field) => {
    if (field.field === MODEL_GRAPH && field.wireType === WIRE_LENGTH_DELIMITED) graphFields.push(field);
    else envelopeFields.push(field);
  });
  // Each part is decoded with the nesting depth it has inside the whole model (graph 1, tensor 2).
  const proto = decodeStrict(onnx.ModelProto, gatherFields(reader, envelopeFields), maxDepth);
  // protobufjs types message fields as plain shapes; a decoded message is one at run time.
  if (graphFields.length > 0) (proto as { graph: unknown }).graph = scanGraph(reader, graphFields, minLazyBytes, rawRanges, maxDepth);
  return { proto, rawRanges };
}

/** The graph from all its occurrences (merged: decoding their fields in order as one message). */
function scanGraph(
  reader: PositionedReader,
  graphFields: readonly WireField[],
  minLazyBytes: number,
  rawRanges: Map<OnnxTypes.TensorProto, RawDataRange>,
  maxDepth: number,
): OnnxTypes.GraphProto {
  const otherFields: WireField[] = [];
  const initializers: OnnxTypes.TensorProto[] = [];
  for (const graphField of graphFields) {
    forEachField(reader, graphField.payloadStart, graphField.end, (field) => {
      if (field.field === GRAPH_INITIALIZER && field.wireType === WIRE_LENGTH_DELIMITED) {
        initializers.push(scanTensor(reader, field, minLazyBytes, rawRanges, maxDepth));
      } else otherFields.push(field);
    });
  }
  const graph = decodeStrict(onnx.GraphProto, gatherFields(reader, otherFields), maxDepth, 1);
  if (initializers.length > 0) graph.initializer = initializers;
  return graph;
}

function scanTensor(
  reader: PositionedReader,
  tensorField: WireField,
  minLazyBytes: number,
  rawRanges: Map<OnnxTypes.TensorProto, RawDataRange>,
  maxDepth: number,
): OnnxTypes.TensorProto {
  let fields: WireField[] = [];
  let range: RawDataRange | undefined;
  forEachField(reader, tensorField.payloadStart, tensorField.end, (field) => {
    if (field.field !== TENSOR_RAW_DATA || field.wireType !== WIRE_LENGTH_DELIMITED) {
      fields.push(field);
      return;
    }
    // A later raw_data replaces an earlier one, as in protobufjs.
    fields = fields.filter((f) => f.field !== TENSOR_RAW_DATA);
    range = undefined;
    const length = field.end - field.payloadStart;
    if (length >= minLazyBytes && length > 0) range = { offset: field.payloadStart, length };
    else fields.push(field);
  });
  const tensor = decodeStrict(onnx.TensorProto, gatherFields(reader, fields), maxDepth, 2);
  if (range) rawRanges.set(tensor, range);
  return tensor;
}
