/** The textual IR (`.mpir`): printer, parser and structural equality. Grammar: packages/ir/README.md. */
export { printModel, printGraph, printNode } from './printer.js';
export { printType, printTensor, type PrintOptions } from './print-literals.js';
export { parseModel, type ParseOptions } from './parser.js';
export { modelsEqual, graphsEqual, type EqualityOptions } from './equality.js';
