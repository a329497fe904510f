export { readTflite, type ReadTfliteOptions } from './model-import.js';
export { DEFAULT_TFLITE_READ_LIMITS, type TfliteReadLimits } from './read-limits.js';
