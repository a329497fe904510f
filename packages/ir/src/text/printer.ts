/**
 * The textual IR printer: `printModel` writes a model as `.mpir` text that `parseModel` reads
 * back to a structurally equal model (see README "Textual IR"). One linear walk; recursion only
 * into nested subgraphs.
 */
import { dirname, resolve } from 'node:path';
import { writeFileAtomicWith } from '../atomic-write.js';
import type { Attribute } from '../attribute.js';
import { ModelpassError } from '../diagnostic.js';
import type { Graph } from '../graph.js';
import type { Model, ModelFunction } from '../model.js';
import type { Node } from '../node.js';
import { typesEqual, type Type } from '../type.js';
import type { Value } from '../value.js';
import {
  printLocation,
  printMetadata,
  printSparseTensor,
  printTensor,
  printType,
  sparseTypeOf,
  tensorTypeOf,
  writeSparseTensor,
  writeTensor,
  type PrintOptions,
} from './print-literals.js';
import {
  ATTRIBUTE_KIND_SPELLING,
  formatFloat,
  formatInt,
  isListKind,
  quoteString,
  sigilName,
  wordOrString,
} from './syntax.js';
import { TextSink } from './text-sink.js';
import { checkModelToPrint } from './text-arguments.js';

const INDENT = '  ';

/** Tensor attributes above this many bytes are written in pieces rather than as one string. */
const STREAMED_ATTRIBUTE_BYTES = 1 << 16;

class Printer {
  /** The type printed last and its text: consecutive values very often share one type object. */
  private lastType: Type | undefined;
  private lastTypeText = '';
  private readonly writeText = (text: string): void => this.out.write(text);

  constructor(
    private readonly options: PrintOptions,
    private readonly out: TextSink = new TextSink(),
  ) {}

  text(): string {
    try {
      return this.out.text();
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new ModelpassError({
        reason: 'the printed model is longer than one JavaScript string can hold',
        source: '@modelpass/ir',
        code: 'mpir/too-large',
        hint: 'write it with printModelToFile (which streams), or print with elideConstantsLargerThan / referenceFileData',
        cause: error,
      });
    }
  }

  write(text: string): void {
    this.out.write(text);
  }

  private type(type: Type): string {
    if (type !== this.lastType) {
      this.lastTypeText = printType(type);
      this.lastType = type;
    }
    return this.lastTypeText;
  }

  /** `%name: type doc="…" meta{…}`; by default the type is left out when unknown. */
  private valueDefinition(value: Value, typeShown: 'known' | 'always' | 'never' = 'known'): string {
    let text = sigilName('%', value.name);
    if (typeShown === 'always' || (typeShown === 'known' && value.type.kind !== 'unknown')) text += ': ' + this.type(value.type);
    if (value.docString !== undefined) text += ' ' + doc(value.docString);
    if (value._metadata && value._metadata.size > 0) text += ' ' + printMetadata(value._metadata);
    return text;
  }

  model(model: Model): void {
    let header = 'model';
    if (model.irVersion !== undefined) header += ` ir_version=${model.irVersion}`;
    if (model.producerName !== undefined) header += ` producer=${quoteString(model.producerName)}`;
    if (model.producerVersion !== undefined) header += ` producer_version=${quoteString(model.producerVersion)}`;
    if (model.domain !== undefined) header += ` domain=${quoteString(model.domain)}`;
    if (model.modelVersion !== undefined) header += ` model_version=${formatInt(model.modelVersion)}`;
    header += optional(opsets(model.opsetImports));
    header += optional(doc(model.docString));
    header += optional(printMetadata(model.metadata));
    this.write(header + ' {\n');
    for (const fn of model.functions) this.function(fn);
    this.graph(model.graph, '');
    this.write('\n}\n');
  }

  function(fn: ModelFunction): void {
    const opName = `${fn.dialect}.${fn.name}`;
    let header =
      fn.name.includes('.') || fn.name === '' || fn.dialect === ''
        ? `func ${quoteString(fn.dialect)} ${quoteString(fn.name)}`
        : `func ${wordOrString(opName)}`;
    if (fn.overload !== undefined) header += ` overload=${quoteString(fn.overload)}`;
    if (fn.attributeNames.length > 0) header += ` attrs[${fn.attributeNames.map(quoteString).join(', ')}]`;
    if (fn.attributeDefaults.size > 0) {
      this.write(header + ' defaults');
      this.attributeDict(fn.attributeDefaults, '');
      header = '';
    }
    header += optional(opsets(fn.opsetImports));
    header += optional(doc(fn.docString));
    header += optional(printMetadata(fn.metadata));
    this.write(header + ' ');
    this.graph(fn.body, '');
    this.write('\n');
  }

  /** Writes `graph @name(...) {...}`; the closing brace is at `indent`, without a newline after it. */
  graph(graph: Graph, indent: string): void {
    const inner = indent + INDENT;
    let header = `graph ${sigilName('@', graph.name)}(${graph.inputs.map((v) => this.valueDefinition(v)).join(', ')})`;
    header += optional(doc(graph.docString));
    header += optional(printMetadata(graph.metadata));
    this.write(header + ' {\n');
    for (const value of graph.constants) this.constant(value, value.isGraphInput, inner);
    for (let node = graph.firstNode; node; node = node.next) {
      this.write(inner);
      this.node(node, inner);
      this.write('\n');
    }
    if (graph.outputs.length > 0) {
      this.write(`${inner}return ${graph.outputs.map((v) => sigilName('%', v.name)).join(', ')}\n`);
    }
    this.write(indent + '}');
  }

  constant(value: Value, isInput: boolean, indent: string): void {
    const { sparseConstant, constant } = value;
    if (!sparseConstant && !constant) return;
    if (isInput) this.write(`${indent}default ${sigilName('%', value.name)} = `);
    else {
      const derived = sparseConstant ? sparseTypeOf(sparseConstant) : tensorTypeOf(constant!);
      const typeShown = typesEqual(value.type, derived) ? 'never' : 'always';
      this.write(`${indent}const ${this.valueDefinition(value, typeShown)} = `);
    }
    if (sparseConstant) writeSparseTensor(sparseConstant, this.options, this.writeText);
    else writeTensor(constant!, this.options, this.writeText);
    this.write('\n');
  }

  /** One node on the current line (subgraph blocks continue over further lines). */
  node(node: Node, indent: string): void {
    let line = '';
    const outputs = node.outputs;
    if (outputs.length > 0) {
      for (let i = 0; i < outputs.length; i++) {
        const value = outputs[i];
        if (i > 0) line += ', ';
        line += value ? this.valueDefinition(value) : 'null';
      }
      line += ' = ';
    }
    line += wordOrString(node.op) + '(';
    const inputs = node.inputs;
    for (let i = 0; i < inputs.length; i++) {
      const value = inputs[i];
      if (i > 0) line += ', ';
      line += value ? sigilName('%', value.name) : 'null';
    }
    line += ')';
    const attributes = node.attributes;
    if (attributes.size > 0) {
      if (node._graphAttributeCount > 0 || hasLargeTensor(attributes)) {
        this.write(line + ' ');
        line = '';
        this.attributeDict(attributes, indent);
      } else {
        line += ' ' + this.plainAttributeDict(attributes);
      }
    }
    line += ` name=${quoteString(node.name)}`;
    if (node.overload !== undefined) line += ` overload=${quoteString(node.overload)}`;
    if (node.docString !== undefined) line += ' ' + doc(node.docString);
    if (node._metadata && node._metadata.size > 0) line += ' ' + printMetadata(node._metadata);
    line += optional(printLocation(node.loc));
    this.write(line);
  }

  /** `{name=value, ...}` for attributes that hold no graphs, as one string. */
  private plainAttributeDict(attributes: ReadonlyMap<string, Attribute>): string {
    let text = '{';
    let first = true;
    for (const [name, attribute] of attributes) {
      if (!first) text += ', ';
      first = false;
      text += wordOrString(name) + '=' + this.attributeValue(attribute);
    }
    return text + '}';
  }

  /** Writes `{name=value, ...}`; graph values are written in place as blocks, tensors in pieces. */
  private attributeDict(attributes: ReadonlyMap<string, Attribute>, indent: string): void {
    this.write('{');
    let first = true;
    for (const [name, attribute] of attributes) {
      if (!first) this.write(', ');
      first = false;
      this.write(`${wordOrString(name)}=`);
      if (attribute.kind === 'graph') this.graph(attribute.value, indent);
      else if (attribute.kind === 'graphs') {
        if (attribute.value.length === 0) this.write('graphs[]');
        else {
          this.write('[');
          attribute.value.forEach((graph, index) => {
            if (index > 0) this.write(', ');
            this.graph(graph, indent);
          });
          this.write(']');
        }
      } else if (attribute.kind === 'tensor') writeTensor(attribute.value, this.options, this.writeText);
      else if (attribute.kind === 'sparse-tensor') writeSparseTensor(attribute.value, this.options, this.writeText);
      else this.write(this.attributeValue(attribute));
    }
    this.write('}');
  }

  private attributeValue(attribute: Attribute): string {
    switch (attribute.kind) {
      case 'ref':
        return `ref(${ATTRIBUTE_KIND_SPELLING[attribute.refKind]}, ${quoteString(attribute.refName)})`;
      case 'float':
        return formatFloat(attribute.value);
      case 'int':
        return formatInt(attribute.value);
      case 'string':
        return quoteString(attribute.value);
      case 'tensor':
        return printTensor(attribute.value, this.options);
      case 'sparse-tensor':
        return printSparseTensor(attribute.value, this.options);
      case 'type':
        return `type<${printType(attribute.value)}>`;
      case 'graph':
      case 'graphs':
        throw new Error('graph attributes are written by attributeDict');
      default: {
        if (!isListKind(attribute.kind)) throw new Error(`unhandled attribute kind ${attribute.kind}`);
        const values = attribute.value as readonly unknown[];
        if (values.length === 0) return `${ATTRIBUTE_KIND_SPELLING[attribute.kind]}[]`;
        const format = listElementFormatters[attribute.kind](this.options);
        return `[${values.map((v) => format(v as never)).join(', ')}]`;
      }
    }
  }
}

const listElementFormatters = {
  floats: () => (v: number) => formatFloat(v),
  ints: () => (v: number) => formatInt(v),
  strings: () => (v: string) => quoteString(v),
  tensors: (options: PrintOptions) => (v: Parameters<typeof printTensor>[0]) => printTensor(v, options),
  'sparse-tensors': (options: PrintOptions) => (v: Parameters<typeof printSparseTensor>[0]) => printSparseTensor(v, options),
  types: () => (v: Parameters<typeof printType>[0]) => `type<${printType(v)}>`,
  graphs: () => () => {
    throw new Error('graph lists are written by attributeDict');
  },
} as const;

/** Subgraphs nested thousands deep (built in code; the parser limits its own) exhaust the stack: say so plainly. */
function guardStack(print: () => void): void {
  try {
    print();
  } catch (error) {
    if (!(error instanceof RangeError && /call stack/i.test(error.message))) throw error;
    throw new ModelpassError({
      reason: 'the model nests subgraphs too deeply to print (the call stack ran out)',
      source: '@modelpass/ir',
      code: 'mpir/too-deep',
      cause: error,
    });
  }
}

function hasLargeTensor(attributes: ReadonlyMap<string, Attribute>): boolean {
  for (const attribute of attributes.values()) {
    if (attribute.kind === 'tensor' && (attribute.value.storage?.byteLength ?? 0) > STREAMED_ATTRIBUTE_BYTES) return true;
    if (attribute.kind === 'sparse-tensor' && (attribute.value.values.storage?.byteLength ?? 0) > STREAMED_ATTRIBUTE_BYTES) return true;
  }
  return false;
}

function optional(text: string): string {
  return text === '' ? '' : ' ' + text;
}

function doc(docString: string | undefined): string {
  return docString === undefined ? '' : `doc=${quoteString(docString)}`;
}

function opsets(imports: ReadonlyMap<string, number>): string {
  if (imports.size === 0) return '';
  const parts: string[] = [];
  for (const [dialect, version] of imports) parts.push(`${wordOrString(dialect)}=${version}`);
  return `opsets{${parts.join(', ')}}`;
}

/** The whole model as `.mpir` text. */
export function printModel(model: Model, options: PrintOptions = {}): string {
  checkModelToPrint(model, 'printModel');
  const printer = new Printer(options);
  guardStack(() => printer.model(model));
  return printer.text();
}

/**
 * Writes the model as `.mpir` text to `path`, streaming: the text goes to the file 64 KiB at a
 * time and never exists as one string, so models whose text passes the engine's string limit
 * (~512 MiB) still print. The write is atomic (see `writeFileAtomicWith`): on any failure, a full
 * disk included, no partial file is left and the error names `path`. Relative `file(...)`
 * references are printed against the output's folder unless `fileReferenceBase` says otherwise.
 */
export function printModelToFile(model: Model, path: string, options: PrintOptions = {}): void {
  checkModelToPrint(model, 'printModelToFile');
  const printOptions: PrintOptions = { fileReferenceBase: dirname(resolve(path)), ...options };
  writeFileAtomicWith(path, (output) => {
    const sink = new TextSink((bytes) => output.write(bytes));
    guardStack(() => new Printer(printOptions, sink).model(model));
    sink.end();
  });
}

/** One graph block (`graph @name(...) {...}`), e.g. for diagnostics and IR dumps. */
export function printGraph(graph: Graph, options: PrintOptions = {}): string {
  const printer = new Printer(options);
  guardStack(() => printer.graph(graph, ''));
  return printer.text() + '\n';
}

/** One node as a single statement (its subgraphs included), e.g. for diagnostics. */
export function printNode(node: Node, options: PrintOptions = {}): string {
  const printer = new Printer(options);
  guardStack(() => printer.node(node, ''));
  return printer.text();
}
