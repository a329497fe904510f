export { TFLITE_DIALECT, tfliteOpName, builtinOfOp, builtinOperatorNames, builtinCode, builtinNameOfCode } from './names.js';
export { optionAttributes, optionsTableOfBuiltin, type OptionAttribute } from './option-attributes.js';
export { operandsOf } from './operands.js';
export { tfliteOpSchemas, registerTfliteDialect } from './ops.js';
export { TFLITE_TYPE_INFERENCE } from './shape-inference.js';
