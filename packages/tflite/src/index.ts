// @modelpass/tflite — TFLite reader/writer, the tflite dialect, layout and legalization.
export * from './dialect/index.js';
