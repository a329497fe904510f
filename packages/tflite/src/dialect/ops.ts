import { defineOp, OpRegistry, type AttributeSpec, type OpSchema } from '@modelpass/ir';
import { BUILTIN_OPERATORS } from '../generated/schema-tables.js';
import { tfliteOpName } from './names.js';
import { operandsOf } from './operands.js';
import { optionAttributes, optionsTableOfBuiltin } from './option-attributes.js';
import { TFLITE_TYPE_INFERENCE } from './shape-inference.js';

/** Attributes of `tflite.CUSTOM`: the custom op's name and its opaque options, byte for byte. */
const CUSTOM_ATTRIBUTES: Readonly<Record<string, AttributeSpec>> = {
  custom_code: { kind: 'string', required: true, doc: 'OperatorCode.custom_code: the custom op name (e.g. Convolution2DTransposeBias)' },
  custom_options: { kind: 'tensor', doc: 'Operator.custom_options: the raw bytes (uint8 tensor), usually a FlexBuffer' },
  custom_options_format: { kind: 'string', oneOf: ['FLEXBUFFERS'], default: 'FLEXBUFFERS', doc: 'enum CustomOptionsFormat' },
};

function schemaOf(builtin: string): OpSchema {
  const { inputs, outputs } = operandsOf(builtin);
  const options = optionsTableOfBuiltin(builtin);
  const attributes: Record<string, AttributeSpec> = {};
  if (builtin === 'CUSTOM') Object.assign(attributes, CUSTOM_ATTRIBUTES);
  for (const option of options ? optionAttributes(options.table) : []) attributes[option.attribute] = option.spec;
  const inferTypes = TFLITE_TYPE_INFERENCE.get(builtin);
  return defineOp({
    op: tfliteOpName(builtin),
    summary: options ? `TFLite builtin ${builtin} (options table ${options.table})` : `TFLite builtin ${builtin}`,
    inputs,
    outputs,
    attributes,
    ...(inferTypes ? { inferTypes } : {}),
  });
}

let schemas: readonly OpSchema[] | undefined;

/** The op schemas of the tflite dialect: one per BuiltinOperator of the schema (`tflite.CONV_2D`, …, `tflite.CUSTOM`). */
export function tfliteOpSchemas(): readonly OpSchema[] {
  schemas ??= Object.freeze(
    Object.entries(BUILTIN_OPERATORS)
      .filter(([, info]) => !info.deprecated)
      .map(([builtin]) => schemaOf(builtin)),
  );
  return schemas;
}

/** Registers the tflite dialect in `registry` (a fresh one when absent) and returns it. */
export function registerTfliteDialect(registry: OpRegistry = new OpRegistry()): OpRegistry {
  return registry.register(tfliteOpSchemas(), '@modelpass/tflite');
}
