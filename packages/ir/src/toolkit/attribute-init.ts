import type { Attribute, AttributeKind } from '../attribute.js';
import { ModelpassError } from '../diagnostic.js';
import type { OpRegistry } from '../op-registry.js';
import type { OpSchema } from '../op-schema.js';
import { Tensor } from '../tensor.js';

/** A plain attribute value a builder accepts besides a typed `Attribute`. */
export type PlainAttributeValue = number | string | Tensor | readonly number[] | readonly string[];

/** Attributes as given to `Builder.create`: typed ones, plain values, or `undefined` (left out). */
export type AttributeInits = Readonly<Record<string, Attribute | PlainAttributeValue | undefined>>;

type PlainKind = 'float' | 'int' | 'string' | 'tensor' | 'floats' | 'ints' | 'strings';

/**
 * Types attribute values for a node of `op`. A typed `Attribute` (from `attrs.*`) is kept as is.
 * A plain value takes the kind the op's schema declares when `schema` is given; without one, an
 * integral number is an `int`, another number a `float`, a string a `string`, a Tensor a `tensor`,
 * a number array `ints` when every element is integral (else `floats`), a string array `strings`.
 * Pass `attrs.float(1)` to force a float without a schema.
 */
export function toAttributes(op: string, inits: AttributeInits, schema?: OpSchema): Record<string, Attribute> {
  const typed: Record<string, Attribute> = {};
  // A for-in over own keys, not Object.entries: every node a builder creates comes through here, most with
  // an attribute or two, and the entries array of pairs was garbage at once.
  for (const name in inits) {
    if (!Object.hasOwn(inits, name)) continue;
    const value = inits[name];
    if (value !== undefined) typed[name] = typedAttribute(op, name, value, schema);
  }
  return typed;
}

/**
 * `toAttributes` as the map a node keeps (same order, same checks), or undefined when no attribute is given:
 * `Builder.create` hands it to the node it makes, instead of a record the node copies entry by entry. The op's
 * schema is looked up in `registry` at the first plain value (typed attributes and none need no schema).
 */
export function toAttributeMap(op: string, inits: AttributeInits, registry: OpRegistry | undefined): Map<string, Attribute> | undefined {
  let typed: Map<string, Attribute> | undefined;
  let schema: OpSchema | undefined;
  let schemaLooked = false;
  for (const name in inits) {
    if (!Object.hasOwn(inits, name)) continue;
    const value = inits[name];
    if (value === undefined) continue;
    if (!schemaLooked && !isAttribute(value)) {
      schema = registry?.get(op);
      schemaLooked = true;
    }
    (typed ??= new Map()).set(name, typedAttribute(op, name, value, schema));
  }
  return typed;
}

/** One attribute: a typed `Attribute` as it is, a plain value typed by the schema or guessed. */
function typedAttribute(op: string, name: string, value: Attribute | PlainAttributeValue, schema: OpSchema | undefined): Attribute {
  if (isAttribute(value)) return value;
  const declared = schema?.attributes[name]?.kind;
  return checked(op, name, declared ?? guessKind(value), value);
}

function isAttribute(value: Attribute | PlainAttributeValue): value is Attribute {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Tensor) && 'kind' in value;
}

function guessKind(value: PlainAttributeValue): PlainKind {
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'string';
  if (value instanceof Tensor) return 'tensor';
  const list = value as readonly (number | string)[];
  if (list.every((item) => typeof item === 'string')) return 'strings';
  return list.every((item) => Number.isInteger(item)) ? 'ints' : 'floats';
}

/** Whether a plain value can be an attribute of `kind` (a switch and loops: one call per attribute, no closure per kind). */
function accepts(kind: AttributeKind, value: PlainAttributeValue): boolean {
  switch (kind) {
    case 'int':
      return typeof value === 'number' && Number.isInteger(value);
    case 'float':
      return typeof value === 'number';
    case 'string':
      return typeof value === 'string';
    case 'tensor':
      return value instanceof Tensor;
    case 'ints':
    case 'floats':
    case 'strings': {
      if (!Array.isArray(value)) return false;
      const list = value as readonly unknown[];
      for (let i = 0; i < list.length; i++) {
        const item = list[i];
        if (kind === 'strings' ? typeof item !== 'string' : typeof item !== 'number' || (kind === 'ints' && !Number.isInteger(item))) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

function checked(op: string, name: string, kind: AttributeKind, value: PlainAttributeValue): Attribute {
  if (!accepts(kind, value)) {
    throw new ModelpassError({
      reason: `attribute '${name}' of ${op} cannot be built from the value given`,
      expected: `a ${kind} attribute`,
      actual: Array.isArray(value) ? `an array (${JSON.stringify(value).slice(0, 60)})` : typeof value,
      hint: 'pass a typed attribute (attrs.int, attrs.floats, ...) for kinds plain values cannot express',
      source: '@modelpass/ir',
    });
  }
  return { kind, value } as Attribute;
}
