export {};
export * from './onnx-cases.js';
export * from './onnx-ort.js';
export * from './onnx-checker.js';
export * from './real-models.js';
export * from './real-models-known-gaps.js';
export * from './real-models-feed-sets.js';
