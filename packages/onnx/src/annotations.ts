import type { Graph, Model, Node, Type, Value } from '@modelpass/ir';
import { META_PREFIX } from './dialect.js';
import { onnx, type OnnxTypes } from './proto.js';

/**
 * ONNX facts the IR has no field for, carried through a round trip as metadata of the IR object
 * they belong to (keys under `modelpass:onnx.`, never written as metadata_props):
 *
 * - `training_info` (ModelProto 20) and `configuration` (ModelProto 26, device configurations):
 *   the messages as they were, base64 protobuf, on the model;
 * - `quantization_annotation` (GraphProto 14): tensor name → quantization parameter tensor
 *   names, as JSON on the graph; entries whose tensor no longer exists are not written back;
 * - `device_configurations` (NodeProto 10): base64 protobuf, on the node;
 * - denotations (TypeProto.denotation and each Dimension.denotation): JSON on the value, written
 *   back while the value keeps the same kind of type and rank.
 */
export const META_TRAINING_INFO = `${META_PREFIX}onnx.training_info`;
export const META_DEVICE_CONFIGURATIONS = `${META_PREFIX}onnx.configuration`;
export const META_QUANTIZATION_ANNOTATION = `${META_PREFIX}onnx.quantization_annotation`;
export const META_NODE_DEVICE_CONFIGURATIONS = `${META_PREFIX}onnx.device_configurations`;
export const META_DENOTATION = `${META_PREFIX}onnx.denotation`;

interface Codec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

function packMessages<T>(codec: Codec<T>, messages: readonly T[]): string {
  return JSON.stringify(messages.map((message) => Buffer.from(codec.encode(message).finish()).toString('base64')));
}

function unpackMessages<T>(codec: Codec<T>, text: string | undefined): T[] | undefined {
  if (text === undefined) return undefined;
  const list = JSON.parse(text) as string[];
  return list.map((base64) => codec.decode(Buffer.from(base64, 'base64')));
}

// ---- model -------------------------------------------------------------------------------------

export function importModelAnnotations(proto: OnnxTypes.ModelProto, model: Model): void {
  if (proto.training_info?.length) model.metadata.set(META_TRAINING_INFO, packMessages(onnx.TrainingInfoProto, proto.training_info as OnnxTypes.TrainingInfoProto[]));
  if (proto.configuration?.length) {
    model.metadata.set(META_DEVICE_CONFIGURATIONS, packMessages(onnx.DeviceConfigurationProto, proto.configuration as OnnxTypes.DeviceConfigurationProto[]));
  }
}

export function exportModelAnnotations(model: Model, proto: OnnxTypes.ModelProto.$Properties): void {
  const training = unpackMessages(onnx.TrainingInfoProto, model.metadata.get(META_TRAINING_INFO));
  if (training?.length) proto.training_info = training;
  const configuration = unpackMessages(onnx.DeviceConfigurationProto, model.metadata.get(META_DEVICE_CONFIGURATIONS));
  if (configuration?.length) proto.configuration = configuration;
}

// ---- graph -------------------------------------------------------------------------------------

interface QuantizationAnnotation {
  readonly tensor: string;
  readonly parameters: readonly [string, string][];
}

/** Called once the graph's values exist: annotations of tensors the graph does not have are dangling and not kept. */
export function importGraphAnnotations(proto: OnnxTypes.GraphProto, graph: Graph): void {
  const annotations: QuantizationAnnotation[] = (proto.quantization_annotation ?? [])
    .filter((entry) => graph.lookup(entry.tensor_name ?? '') !== undefined)
    .map((entry) => ({
      tensor: entry.tensor_name ?? '',
      parameters: (entry.quant_parameter_tensor_names ?? []).map((pair) => [pair.key ?? '', pair.value ?? ''] as [string, string]),
    }));
  if (annotations.length > 0) graph.metadata.set(META_QUANTIZATION_ANNOTATION, JSON.stringify(annotations));
}

export function exportGraphAnnotations(graph: Graph, proto: OnnxTypes.GraphProto.$Properties): void {
  const text = graph.metadata.get(META_QUANTIZATION_ANNOTATION);
  if (text === undefined) return;
  const annotations = (JSON.parse(text) as QuantizationAnnotation[]).filter((entry) => graph.lookup(entry.tensor) !== undefined);
  if (annotations.length === 0) return;
  proto.quantization_annotation = annotations.map((entry) => ({
    tensor_name: entry.tensor,
    quant_parameter_tensor_names: entry.parameters.map(([key, value]) => ({ key, value })),
  }));
}

// ---- node --------------------------------------------------------------------------------------

export function importNodeAnnotations(proto: OnnxTypes.NodeProto, node: Node): void {
  if (proto.device_configurations?.length) {
    node.metadata.set(
      META_NODE_DEVICE_CONFIGURATIONS,
      packMessages(onnx.NodeDeviceConfigurationProto, proto.device_configurations as OnnxTypes.NodeDeviceConfigurationProto[]),
    );
  }
}

export function exportNodeAnnotations(node: Node, proto: OnnxTypes.NodeProto.$Properties): void {
  const configurations = unpackMessages(onnx.NodeDeviceConfigurationProto, node.metadata.get(META_NODE_DEVICE_CONFIGURATIONS));
  if (configurations?.length) proto.device_configurations = configurations;
}

// ---- value denotations -------------------------------------------------------------------------

interface Denotation {
  /** The IR type kind it was read with, and the rank for tensor types. */
  readonly kind: string;
  readonly rank?: number;
  readonly type?: string;
  readonly dims?: readonly (string | null)[];
}

function tensorShapeOf(type: OnnxTypes.TypeProto.$Properties | null | undefined) {
  return (type?.tensor_type ?? type?.sparse_tensor_type)?.shape;
}

export function importDenotation(typeProto: OnnxTypes.TypeProto.$Properties | null | undefined, value: Value): void {
  if (!typeProto) return;
  const dims = (tensorShapeOf(typeProto)?.dim ?? []).map((dim) => dim.denotation || null);
  const hasDims = dims.some((dim) => dim !== null);
  if (!typeProto.denotation && !hasDims) return;
  const denotation: Denotation = {
    kind: value.type.kind,
    ...(isShaped(value.type) && value.type.shape !== null ? { rank: value.type.shape.length } : {}),
    ...(typeProto.denotation ? { type: typeProto.denotation } : {}),
    ...(hasDims ? { dims } : {}),
  };
  value.metadata.set(META_DENOTATION, JSON.stringify(denotation));
}

function isShaped(type: Type): type is Extract<Type, { kind: 'tensor' | 'sparse-tensor' }> {
  return type.kind === 'tensor' || type.kind === 'sparse-tensor';
}

/** Writes the value's denotations into its exported type, while its kind and rank are still those they were read with. */
export function exportDenotation(value: Value, typeProto: OnnxTypes.TypeProto.$Properties | undefined): void {
  const text = value.metadata.get(META_DENOTATION);
  if (text === undefined || !typeProto) return;
  const denotation = JSON.parse(text) as Denotation;
  if (denotation.kind !== value.type.kind) return;
  if (denotation.type) typeProto.denotation = denotation.type;
  const shape = tensorShapeOf(typeProto);
  if (!denotation.dims || !shape?.dim || shape.dim.length !== denotation.dims.length || denotation.rank !== shape.dim.length) return;
  shape.dim.forEach((dim, i) => {
    const name = denotation.dims![i];
    if (name) dim.denotation = name;
  });
}
