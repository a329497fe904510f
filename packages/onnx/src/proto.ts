/** The generated ONNX protobuf code and its types, for use inside this package only. */
export { onnx } from './generated/onnx.js';
export type { onnx as OnnxTypes } from './generated/onnx-types.js';

/** True when a decoded protobuf message carries field `key` (proto2 presence). */
export function has(message: object | null | undefined, key: string): boolean {
  return message !== null && message !== undefined && Object.prototype.hasOwnProperty.call(message, key);
}
