/** The textual IR (`.mpir`): printer, parser and structural equality. Grammar: packages/ir/README.md. */
export { printModel, printModelToFile, printGraph, printNode } from './printer.js';
export { printType, printTensor, type PrintOptions } from './print-literals.js';
export { parseModel, DEFAULT_MAX_NESTING, type ParseOptions } from './parser.js';
export { readModelText } from './model-file.js';
export { modelsEqual, graphsEqual, type EqualityOptions } from './equality.js';
