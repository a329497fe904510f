export { writeTflite, encodeTflite, type WriteTfliteOptions } from './model-export.js';
export { assertExportable } from './validate.js';
export { operatorVersion } from './operator-version.js';
export { assertNoTfliteOps } from './foreign-target.js';
