export {};
export * from './onnx-cases.js';
export * from './onnx-ort.js';
export * from './onnx-checker.js';
