/**
 * TorchScript archive → IR: the root module of data.pkl is the model; its `forward` is interpreted
 * symbolically (submodule calls inlined with their own parameters, Python-level values folded,
 * aten ops lowered to canonical ops). Weights stay lazy: constants read `data/<key>` on demand.
 */
import { inferShapes } from '@modelpass/ops';
import { GraphBuilder, tensorType, type DType, type Dim, type Graph, type InferenceRefusal, type Model, type Value } from '@modelpass/ir';
import { MODELPASS_EXTRA_RECORD, readArchiveExtras } from '../archive/extra-records.js';
import { readTorchArchive } from '../archive/read-archive.js';
import type { TorchArchive, TorchArchiveLimits } from '../archive/types.js';
import { checkReadTorchScriptArguments } from '../api-arguments.js';
import { TORCHSCRIPT_UNKNOWN_INPUT_NAME, torchscriptError } from '../errors.js';
import type { PickleTensor } from '../pickle/pickle-value.js';
import type { Expr, SourcePosition } from '../script/ast.js';
import { CodeIndex } from './code-index.js';
import { uniquifySubgraphNames } from './control-flow.js';
import { checkGivenShapesFit, givenShapesRefused } from './shape-fit.js';
import { Interpreter, type InterpreterHost } from './interpreter.js';
import { describeValue, NONE, type ScriptValue } from './script-value.js';
import { collectingRefusals } from './lowering.js';
import { annotationText, CONTAINER_ARGUMENT_HINT, isContainerAnnotation, isOptionalLeftNone } from './container-arguments.js';

/** The graph input a `forward` argument becomes. */
export interface TorchScriptInputSpec {
  dtype?: DType;
  /** Dims (numbers, symbolic names, or null for unknown); its length is the input's rank. */
  shape?: readonly Dim[];
  /**
   * For a `forward` argument that is not a Tensor (`k: int`, `scale: float`, `flag: bool`, `mode: str`):
   * the value it is bound to while importing (the graph gets no input for it). Without it the
   * argument's default is used; an argument with neither is refused.
   */
  value?: number | boolean | string;
}

export interface ReadTorchScriptOptions {
  /**
   * Per `forward` argument after self: in order, or by argument name (`{ x: { shape: ['batch', 16] } }`;
   * a name `forward` does not have is an error listing its arguments). Default: float32, rank unknown.
   * TorchScript archives record no input shapes (`forward` annotates `x: Tensor`, and `.debug_pkl`
   * holds only source ranges), so code that needs a rank or a size check needs them given here.
   */
  inputs?: readonly TorchScriptInputSpec[] | Readonly<Record<string, TorchScriptInputSpec>>;
  /** Limits for the zip container and pickles. */
  limits?: TorchArchiveLimits;
  /** Opset of the canonical ops emitted (default 17). */
  opset?: number;
  /** Told what the import decided without being asked: a non-tensor forward argument fixed at its default. */
  onNote?: (note: string) => void;
}

/** Reads a TorchScript archive (`torch.jit.save`, scripted or traced) into a Model. */
export function readTorchScript(path: string, options: ReadTorchScriptOptions = {}): Model {
  checkReadTorchScriptArguments(path, options);
  return importTorchScript(readTorchArchive(path, options.limits ?? {}), options);
}

/** Imports an already opened archive. */
export function importTorchScript(archive: TorchArchive, options: ReadTorchScriptOptions = {}): Model {
  try {
    return importArchive(archive, options);
  } catch (error) {
    // Source nested deeper than the parser's guard sees (a left-deep chain of operators thousands long) overflows the interpreter.
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      throw torchscriptError({
        reason: 'the TorchScript source nests too deeply to import (the interpreter ran out of stack)',
        location: { file: archive.path },
        code: 'torchscript/too-deep',
        hint: 'torch.jit.save never writes code nested this deep: the archive was made by hand or damaged',
      });
    }
    throw error;
  }
}

function importArchive(archive: TorchArchive, options: ReadTorchScriptOptions): Model {
  const root = archive.data;
  if (root.kind !== 'object') {
    throw torchscriptError({
      reason: `data.pkl holds a ${root.kind}, not a scripted module: this is a torch.save file (tensors without the code that runs them, such as a state dict or a checkpoint), not a TorchScript archive`,
      location: { file: archive.path },
      hint: 'save the module itself with torch.jit.save(torch.jit.script(model), PATH) (or torch.jit.trace), or export it with torch.onnx.export; in code, readStateDict reads such a file and loadStateDict puts its weights into a model',
      code: 'torchscript/not-a-module',
    });
  }
  const builder = new GraphBuilder();
  const code = new CodeIndex(archive.code, `${archive.path}:`);
  const constantsByTensor = new Map<PickleTensor, ScriptValue>();
  const host: InterpreterHost = {
    builder,
    code,
    constantTensor(tensor, name) {
      let value = constantsByTensor.get(tensor);
      if (!value) {
        const constant = builder.constant(archive.tensor(tensor), name.replace(/[^A-Za-z0-9_.]/g, '_') || 'weight');
        value = { kind: 'tensor', value: constant, rank: tensor.shape.length, shape: tensor.shape, dtype: tensor.dtype };
        constantsByTensor.set(tensor, value);
      }
      return value;
    },
    constant(index: number, at: SourcePosition) {
      const items = archive.constants.kind === 'tuple' || archive.constants.kind === 'list' ? archive.constants.items : [];
      const item = items[index];
      if (!item) return interpreter.fail(at, `CONSTANTS.c${index} is not in constants.pkl (it has ${items.length})`);
      return interpreter.fromPickle(item, `CONSTANTS.c${index}`, at);
    },
  };
  const interpreter = new Interpreter(host);
  const rootClass = code.classNamed(root.className);
  const at: SourcePosition = { file: `${archive.path}:data.pkl`, line: 1, column: 1 };
  if (!rootClass) interpreter.fail(at, `the archive has no code for the root module class ${root.className}`);
  const forward = rootClass!.methods.get('forward');
  if (!forward) interpreter.fail(rootClass!.at, `the root module ${root.className} has no forward method`);
  const self: ScriptValue & { kind: 'module' } = { kind: 'module', className: root.className, state: root.state, path: '' };
  const params = forward!.params.slice(1);
  const extras = readArchiveExtras(archive.records, archive.record, archive.recordSize, options.onNote);
  // Arguments modelpass's writer named otherwise than their graph input (`input_0` for `input.1`): shapes may be given by
  // either name, and the input gets its recorded name back unless the shapes named it by its argument.
  const recordedInputNames = new Map([...(extras.inputNames ?? [])].filter(([argument]) => params.some((param) => param.name === argument)));
  const namedByArgument = new Set<string>();
  const specs = byArgumentName(options.inputs, params, recordedInputNames, namedByArgument);
  if (specs && !Array.isArray(specs)) {
    const unknown = Object.keys(specs).filter((name) => !params.some((param) => param.name === name));
    if (unknown.length > 0) {
      interpreter.fail(forward!.at, `input shapes are given for ${unknown.map((n) => `'${n}'`).join(', ')}, but ${root.className}.forward takes ${params.map((p) => `'${p.name}'`).join(', ') || 'no arguments'}`, undefined, TORCHSCRIPT_UNKNOWN_INPUT_NAME);
    }
  }
  const givenSpecFor = (name: string, index: number): TorchScriptInputSpec | undefined =>
    !specs ? undefined : Array.isArray(specs) ? (specs as readonly TorchScriptInputSpec[])[index] : (specs as Readonly<Record<string, TorchScriptInputSpec>>)[name];
  // An archive modelpass wrote records its inputs' dtypes and shapes: the defaults of what the caller does not give.
  const specFor = (name: string, index: number): TorchScriptInputSpec | undefined => {
    const given = givenSpecFor(name, index);
    const recorded = extras.inputTypes?.get(name);
    if (!recorded || given?.value !== undefined) return given;
    const defined = Object.entries(given ?? {}).filter(([, field]) => field !== undefined);
    return { ...recorded, ...Object.fromEntries(defined) };
  };
  const args: ScriptValue[] = params.map((param, index) => {
    const spec = specFor(param.name, index);
    const annotation = param.annotation?.kind === 'name' ? param.annotation.id : undefined;
    if (annotation !== undefined && annotation !== 'Tensor') {
      if (spec?.value !== undefined) return boundArgument(interpreter, forward!.at, param.name, annotation, spec.value);
      if (param.defaultValue) {
        const fixed = interpreter.evaluate(param.defaultValue, new Map());
        const shown = 'value' in fixed && typeof fixed.value !== 'object' ? JSON.stringify(fixed.value) : describeValue(fixed);
        options.onNote?.(`forward argument '${param.name}' (${annotation}) is fixed at its default ${shown} in the converted graph; bind another value with --bind ${param.name}=… (convert, compare, inspect; API: readTorchScript's inputs: { ${param.name}: { value: … } })`);
        return fixed;
      }
      interpreter.fail(forward!.at, `forward argument '${param.name}' is typed ${annotation} and has no default; only Tensor arguments become graph inputs`, `bind it to a value while importing: --bind ${param.name}=… (convert, compare, inspect; API: readTorchScript option inputs: { ${param.name}: { value: … } })`);
    } else if (spec?.value !== undefined) {
      interpreter.fail(forward!.at, `forward argument '${param.name}' is a Tensor (a graph input); a value can be bound only to int, float, bool or str arguments`);
    }
    if (isContainerAnnotation(param.annotation)) {
      const typed = annotationText(param.annotation);
      if (spec?.shape === undefined && spec?.dtype === undefined && isOptionalLeftNone(param.annotation, param.defaultValue)) {
        options.onNote?.(`forward argument '${param.name}' (${typed}) is None, its default, in the converted graph`);
        return NONE;
      }
      interpreter.fail(forward!.at, `forward argument '${param.name}' is typed ${typed}; only Tensor arguments become graph inputs`, CONTAINER_ARGUMENT_HINT);
    }
    // `mask: Optional[Tensor] = None` without a shape or dtype for it: the default, as calling forward(x) does.
    if (!spec && isOptionalTensor(param.annotation) && param.defaultValue?.kind === 'name' && param.defaultValue.id === 'None') {
      options.onNote?.(`forward argument '${param.name}' (Optional[Tensor]) is None, its default, in the converted graph; give it a shape (--input-shape ${param.name}=…; API: readTorchScript's inputs) to make it a graph input`);
      return NONE;
    }
    const dtype = spec?.dtype ?? 'float32';
    const value = builder.input(param.name, tensorType(dtype, spec?.shape ?? null));
    const input: ScriptValue = { kind: 'tensor', value, dtype };
    if (spec?.shape) {
      input.rank = spec.shape.length;
      input.shape = spec.shape;
    }
    return input;
  });
  const givenShapes = params.flatMap((param, index) => {
    const shape = givenSpecFor(param.name, index)?.shape;
    return shape ? [`${param.name}=${shape.map((d) => d ?? '?').join(',')}`] : [];
  });
  let refusal: InferenceRefusal | undefined;
  let result: ScriptValue;
  try {
    result = collectingRefusals(
      (refused) => (refusal ??= refused),
      () => interpreter.call(forward!, [self, ...args], new Map(), forward!.at),
    );
  } catch (error) {
    // Given shapes a node refused (a Linear of 4 features fed 5) leave later values unknown; whatever then fails, the misfit is the cause.
    if (refusal && givenShapes.length > 0) throw givenShapesRefused(refusal, archive.path, givenShapes.join(' '));
    throw error;
  }
  // Tuples, lists and dicts (values in insertion order) of tensors are flattened, as the torch engine flattens what forward returns.
  // A tensor forward returns as a value of a dict with string keys is named by its key.
  const outputs: Array<{ value: ScriptValue; where: string; key?: string }> = [];
  const flatten = (value: ScriptValue, where: string, key?: string): void => {
    if (value.kind === 'tuple' || value.kind === 'list') value.items.forEach((item, i) => flatten(item, `${where}[${i}]`));
    else if (value.kind === 'dict') value.entries.forEach(([k, item]) => flatten(item, `${where}[${'value' in k && typeof k.value !== 'object' ? JSON.stringify(k.value) : describeValue(k)}]`, k.kind === 'str' ? k.value : undefined));
    else outputs.push({ value, where, ...(key !== undefined ? { key } : {}) });
  };
  if (result.kind === 'tuple') result.items.forEach((item, i) => flatten(item, `output ${i}`));
  else flatten(result, 'output 0');
  const keyNames: Array<string | undefined> = [];
  outputs.forEach(({ value: output, where, key }) => {
    if (output.kind === 'tensor') {
      builder.output(output.value);
      keyNames.push(key);
    }
    // An Optional field left None (googlenet's aux logits in eval): no graph output, as the torch engine skips it too.
    else if (output.kind === 'none' && outputs.some((item) => item.value.kind === 'tensor')) options.onNote?.(`forward's ${where} is None: it is not a graph output`);
    else interpreter.fail(forward!.at, `forward returns a ${describeValue(output)} as ${where}; only tensors (or tuples, lists and dicts of tensors) can be graph outputs`);
  });
  const model = builder.model({ onnx: options.opset ?? 17 });
  uniquifySubgraphNames(model);
  inferShapes(model);
  if (givenShapes.length > 0) checkGivenShapesFit(model, archive.path, givenShapes.join(' '));
  restoreInputNames(model, new Map([...recordedInputNames].filter(([argument]) => !namedByArgument.has(argument))));
  for (const [key, value] of extras.metadata) model.metadata.set(key, value);
  if (extras.docStrings?.model) model.docString = extras.docStrings.model;
  if (extras.docStrings?.graph) model.graph.docString = extras.docStrings.graph;
  if (extras.outputNames && extras.outputNames.length !== model.graph.outputs.length) {
    options.onNote?.(`the archive's ${MODELPASS_EXTRA_RECORD} names ${extras.outputNames.length} outputs, but forward returns ${model.graph.outputs.length}: the outputs keep the names of the values they are`);
  }
  nameGraphOutputs(model, extras.outputNames?.length === model.graph.outputs.length ? extras.outputNames : keyNames);
  model.sourceFormat = 'torchscript';
  model.sourcePath = archive.path;
  return model;
}

/**
 * Input specs keyed by forward argument: a key that is the recorded graph input name of an argument (`input.1` for
 * `input_0`) stands for that argument; keys that are argument names are collected in `namedByArgument`.
 */
function byArgumentName(
  specs: ReadTorchScriptOptions['inputs'],
  params: ReadonlyArray<{ name: string }>,
  recorded: ReadonlyMap<string, string>,
  namedByArgument: Set<string>,
): ReadTorchScriptOptions['inputs'] {
  if (!specs || Array.isArray(specs)) return specs;
  const argumentOf = new Map([...recorded].map(([argument, name]) => [name, argument]));
  const result: Record<string, TorchScriptInputSpec> = {};
  for (const [key, spec] of Object.entries(specs as Readonly<Record<string, TorchScriptInputSpec>>)) {
    const isArgument = params.some((param) => param.name === key);
    if (isArgument) namedByArgument.add(key);
    const argument = isArgument ? key : (argumentOf.get(key) ?? key);
    result[argument] = { ...result[argument], ...spec };
  }
  return result;
}

/** Every value name of `graph` and its subgraphs (inputs, constants, node outputs). */
function valueNamesOf(graph: Graph): Set<string> {
  const taken = new Set<string>();
  const collect = (g: Graph): void => {
    for (const value of [...g.inputs, ...g.constants]) taken.add(value.name);
    for (const node of g.nodes()) {
      for (const output of node.outputs) if (output) taken.add(output.name);
      node.subgraphs.forEach(collect);
    }
  };
  collect(graph);
  return taken;
}

/** Gives graph inputs the names the writer recorded for their arguments (`input_0` → `input.1`), where the name is free. */
function restoreInputNames(model: Model, names: ReadonlyMap<string, string>): void {
  if (names.size === 0) return;
  const taken = valueNamesOf(model.graph);
  for (const input of model.graph.inputs) {
    const name = names.get(input.name);
    if (name === undefined || taken.has(name)) continue;
    taken.delete(input.name);
    input.rename(name);
    taken.add(name);
  }
}

/**
 * Gives graph outputs the names an archive recorded (modelpass's `extra/modelpass.json`) or forward's
 * dict keys. An output that is a graph input or constant, is returned twice, or whose name another
 * value of the model already has keeps its own name.
 */
function nameGraphOutputs(model: Model, names: ReadonlyArray<string | undefined>): void {
  const graph = model.graph;
  if (!names.some((name) => name !== undefined)) return;
  const taken = valueNamesOf(graph);
  const renamed = new Set<Value>();
  graph.outputs.forEach((value, index) => {
    const name = names[index];
    if (name === undefined || name === value.name || value.producer === null || renamed.has(value) || taken.has(name)) return;
    renamed.add(value);
    taken.delete(value.name);
    value.rename(name);
    taken.add(name);
  });
}

/** A non-tensor forward argument bound to `value`, checked against its annotation. */
function boundArgument(interpreter: Interpreter, at: SourcePosition, name: string, annotation: string, value: number | boolean | string): ScriptValue {
  const wrong = (): never => interpreter.fail(at, `forward argument '${name}' is typed ${annotation}; the value bound to it (${JSON.stringify(value)}) is not one`);
  switch (annotation) {
    case 'int':
      return typeof value === 'number' && Number.isSafeInteger(value) ? { kind: 'int', value } : wrong();
    case 'float':
      return typeof value === 'number' ? { kind: 'float', value } : wrong();
    case 'bool':
      return typeof value === 'boolean' ? { kind: 'bool', value } : wrong();
    case 'str':
      return typeof value === 'string' ? { kind: 'str', value } : wrong();
    default:
      return interpreter.fail(at, `forward argument '${name}' is typed ${annotation}; binding values is supported for int, float, bool and str arguments`);
  }
}

/** Whether an annotation is `Optional[Tensor]`. */
function isOptionalTensor(annotation: Expr | null | undefined): boolean {
  return annotation?.kind === 'subscript' && annotation.object.kind === 'name' && annotation.object.id === 'Optional' && annotation.index.kind === 'name' && annotation.index.id === 'Tensor';
}
