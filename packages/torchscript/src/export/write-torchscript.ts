/**
 * IR → TorchScript archive: one module class `__torch__.<ClassName>` whose float constants are
 * parameters and other constants buffers, a `forward` of `torch.*` calls (one emitter per
 * canonical op), data.pkl holding the module object, an empty constants.pkl, and the tensors as
 * aligned `data/<key>` records. `torch.jit.load` compiles the source itself.
 */
import { isTensorType, Tensor, type Model, type Node, type Value } from '@modelpass/ir';
import { inferShapes, stridesOf } from '@modelpass/ops';
import { checkWriteTorchScriptArguments } from '../api-arguments.js';
import { archiveExtraRecords, type RecordedInputType } from '../archive/extra-records.js';
import { writeTorchArchive } from '../archive/write-archive.js';
import { torchscriptError } from '../errors.js';
import type { PickleValue } from '../pickle/pickle-value.js';
import { ifEmitter, loopEmitter } from './control-flow-emitters.js';
import { EmitContext, type OpEmitter } from './emit-context.js';
import { float16WithoutCpuKernels } from './float16-cpu.js';
import { opaqueAten, opEmitters } from './op-emitters.js';

export interface WriteTorchScriptOptions {
  /** Class name of the module (default `Model`). */
  className?: string;
  /** Top folder of the archive (default: the file name without extension, as torch does). */
  prefix?: string;
  /**
   * Write float16 compute torch 1.13 runs only on CUDA (matmul, conv, relu, softmax, … have no Half CPU kernel):
   * for a .pt meant for a GPU. Default false: such a model is refused, naming the ops.
   */
  allowFloat16WithoutCpuKernels?: boolean;
}

const PARAMETER_DTYPES = new Set(['float32', 'float64', 'float16', 'bfloat16']);

/** One node as TorchScript (If/Loop write their subgraphs' nodes through this too). */
function emitNode(e: EmitContext, node: Node): void {
  if (node.op === 'onnx.Constant' && e.constantOf(node.outputs[0]) !== undefined) return;
  (CONTROL_FLOW.get(node.op) ?? opEmitters.get(node.op) ?? opaqueAten)(e, node);
}
const CONTROL_FLOW: ReadonlyMap<string, OpEmitter> = new Map([
  ['onnx.If', ifEmitter(emitNode)],
  ['onnx.Loop', loopEmitter(emitNode)],
]);

/** Writes `model` as a TorchScript archive at `path` (refusing, before writing, ops it cannot express). */
export function writeTorchScript(model: Model, path: string, options: WriteTorchScriptOptions = {}): void {
  checkWriteTorchScriptArguments(model, path, options);
  const graph = model.graph;
  const className = options.className ?? 'Model';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(className)) throw torchscriptError({ reason: `class name '${className}' is not a Python identifier`, code: 'torchscript/export' });
  const unsupported = new Map<string, string[]>();
  const nodeConstants = new Map<Value, Tensor>();
  for (const node of graph.allNodes()) {
    const constant = node.op === 'onnx.Constant' ? numericConstantOf(node) : undefined;
    if (constant) {
      nodeConstants.set(node.output(0), constant);
      continue;
    }
    if ((!opEmitters.has(node.op) && !CONTROL_FLOW.has(node.op) && !node.op.startsWith('aten.')) || (node.subgraphs.length > 0 && !CONTROL_FLOW.has(node.op))) {
      const names = unsupported.get(node.op) ?? [];
      names.push(node.name);
      unsupported.set(node.op, names);
    }
  }
  if (unsupported.size > 0) {
    const list = [...unsupported].map(([op, names]) => `${op} (${names.slice(0, 5).join(', ')}${names.length > 5 ? `, … ${names.length} nodes` : ''})`);
    throw torchscriptError({
      reason: `cannot write ${path} as TorchScript: no torch.* spelling for ${list.join('; ')}`,
      location: { file: path },
      code: 'torchscript/export-unsupported',
      hint: 'the TorchScript writer has no emitter for these ops yet: write .onnx or .tflite instead (emitters live in packages/torchscript/src/export/op-emitters.ts; If/Loop: control-flow-emitters.ts)',
    });
  }
  // Refreshed, not merged: declared intermediate types left symbolic after --input-shape fixed the inputs would hide
  // static sizes (silero VAD legacy's reflection padding slices a dim its file declares symbolic).
  let proven: (value: Value) => Tensor | undefined = () => undefined;
  try {
    proven = inferShapes(model, { mode: 'refresh' }).knownConstant;
  } catch {
    // Types only refine the output (integer division, ranks); emitters that need one say so.
  }

  const halfOnly = options.allowFloat16WithoutCpuKernels ? new Map<string, string[]>() : float16WithoutCpuKernels(graph);
  if (halfOnly.size > 0) {
    const list = [...halfOnly].map(([op, names]) => `${op} (${names.slice(0, 3).join(', ')}${names.length > 3 ? `, … ${names.length} nodes` : ''})`);
    throw torchscriptError({
      reason: `cannot write ${path} as TorchScript: float16 ${list.join('; ')} — torch 1.13 has no float16 ('Half') CPU kernel for these ops, so the .pt would load and then fail when run on CPU ("… not implemented for 'Half'")`,
      location: { file: path },
      code: 'torchscript/export-float16',
      hint: 'write the float32 model instead (before convert-float16) and call .half() on a CUDA device in torch for float16; API: writeTorchScript option allowFloat16WithoutCpuKernels writes it as is for CUDA',
    });
  }

  const e = new EmitContext(path, nodeConstants, model.opset('onnx') ?? Number.POSITIVE_INFINITY, proven);
  const parameters: string[] = [];
  const buffers: string[] = [];
  const state: Array<[PickleValue, PickleValue]> = [[{ kind: 'string', value: 'training' }, { kind: 'bool', value: false }]];
  const tensors = new Map<string, Tensor>();
  const bodyStart: string[] = [];
  // Graph constants and Constant nodes' values alike become module attributes.
  const graphConstants = [graph, ...[...graph.allNodes()].flatMap((node) => node.subgraphs)].flatMap((g) => g.constants);
  [...graphConstants.map((value): [Value, Tensor] => [value, value.constant!]), ...nodeConstants].forEach(([value, tensor], index) => {
    const isParameter = PARAMETER_DTYPES.has(tensor.dtype);
    const attribute = `${isParameter ? 'p' : 'b'}${index}_${value.name.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40)}`;
    (isParameter ? parameters : buffers).push(attribute);
    const key = String(tensors.size);
    tensors.set(key, tensor);
    state.push([
      { kind: 'string', value: attribute },
      { kind: 'tensor', storageKey: key, dtype: tensor.dtype, offset: 0, shape: [...tensor.shape], strides: stridesOf(tensor.shape), requiresGrad: false, device: 'cpu', storageElements: tensor.size },
    ]);
    const local = e.name(value);
    bodyStart.push(`    ${local} = self.${attribute}`);
  });

  // Inputs keep their own names where they can (a Keras 'input_1' too); the others get 'input_<index>', made unique.
  // An input with a default value (ONNX IR ≤ 3 lists initializers as inputs) is its default, a module attribute
  // like any constant: as a forward argument torch required it, and callers feed only the inputs without one.
  const forwardInputs = graph.inputs.filter((value) => !value.constant);
  const used = new Set<string>();
  const kept = forwardInputs.map((value) => {
    const usable = isUsableArgumentName(value.name) && !used.has(value.name);
    if (usable) used.add(value.name);
    return usable ? value.name : undefined;
  });
  const inputNames = forwardInputs.map((value, index) => {
    let name = kept[index];
    if (name === undefined) {
      name = `input_${index}`;
      while (used.has(name)) name = `${name}_`;
      used.add(name);
    }
    e.bind(value, name);
    return name;
  });
  // Inputs whose argument is named otherwise get their names back on reading (extra/modelpass.json).
  const renamedInputs = new Map(forwardInputs.flatMap((value, index): Array<[string, string]> => (inputNames[index] !== value.name ? [[inputNames[index]!, value.name]] : [])));
  // Their dtypes and shapes, which `x: Tensor` cannot say, are read back where a caller gives none (extra/modelpass.json).
  const inputTypes = new Map(forwardInputs.flatMap((value, index): Array<[string, RecordedInputType]> =>
    isTensorType(value.type) ? [[inputNames[index]!, { dtype: value.type.dtype, ...(value.type.shape ? { shape: value.type.shape } : {}) }]] : []));
  for (const node of graph.nodes()) emitNode(e, node);
  const outputs = graph.outputs.map((value) => e.name(value));
  const returnType = outputs.length === 1 ? 'Tensor' : `Tuple[${outputs.map(() => 'Tensor').join(', ')}]`;
  const returnExpression = outputs.length === 1 ? outputs[0]! : `(${outputs.join(', ')})`;

  const quote = (names: string[]): string => `[${names.map((n) => `"${n}", `).join('')}]`;
  const source = [
    `class ${className}(Module):`,
    `  __parameters__ = ${quote(parameters)}`,
    `  __buffers__ = ${quote(buffers)}`,
    ...[...parameters, ...buffers].map((name) => `  ${name} : Tensor`),
    '  training : bool',
    `  def forward(self: __torch__.${className}${inputNames.map((name) => `,\n    ${name}: Tensor`).join('')}) -> ${returnType}:`,
    ...bodyStart,
    ...e.lines,
    `    return ${returnExpression}`,
    '',
  ].join('\n');

  const prefix = options.prefix ?? (path.split(/[\\/]/).pop() ?? 'model').replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_]/g, '_') ?? 'model';
  for (const value of graph.inputs) {
    if (!isTensorType(value.type) && value.type.kind !== 'unknown') {
      throw torchscriptError({ reason: `graph input '${value.name}' is a ${value.type.kind}; only tensor inputs are written`, location: { file: path }, code: 'torchscript/export' });
    }
  }
  writeTorchArchive(path, {
    prefix: prefix || 'model',
    version: e.minimumVersion,
    code: new Map([['code/__torch__.py', source]]),
    data: { kind: 'object', className: `__torch__.${className}`, state: { kind: 'dict', entries: state } },
    constants: { kind: 'tuple', items: [] },
    tensors,
    // The model's metadata, output names and doc strings, which TorchScript has no other place for (read back by readTorchScript).
    extraRecords: archiveExtraRecords(model.metadata, graph.outputs.map((value) => value.name), { ...(model.docString ? { model: model.docString } : {}), ...(graph.docString ? { graph: graph.docString } : {}) }, renamedInputs, inputTypes),
  });
}

/** The numeric tensor an `onnx.Constant` node produces (undefined for strings or sparse values). */
function numericConstantOf(node: Node): Tensor | undefined {
  const tensor = node.optionalAttr('value', 'tensor');
  if (tensor) return tensor.dtype === 'string' ? undefined : tensor;
  const float = node.optionalAttr('value_float', 'float');
  if (float !== undefined) return Tensor.fromValues('float32', [], [float]);
  const floats = node.optionalAttr('value_floats', 'floats');
  if (floats) return Tensor.fromValues('float32', [floats.length], floats);
  const int = node.optionalAttr('value_int', 'int');
  if (int !== undefined) return Tensor.fromValues('int64', [], [BigInt(int)]);
  const ints = node.optionalAttr('value_ints', 'ints');
  if (ints) return Tensor.fromValues('int64', [ints.length], ints.map((v) => BigInt(v)));
  return undefined;
}

/** Python keywords and the names the written code itself uses: an input with one of these names is renamed. */
const RESERVED_NAMES = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except',
  'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try',
  'while', 'with', 'yield', 'self', 'torch', 'ops', 'annotate', 'Tensor', 'List', 'Tuple', 'Optional', 'Dict', 'int', 'float', 'bool',
  'str', 'range', 'len', 'print', 'getattr', 'isinstance', 'CONSTANTS', '__torch__', 'uninitialized',
]);

/**
 * Whether a graph input's own name can be its `forward` argument: a Python identifier that the written
 * code does not use itself (locals are `v<N>_…`), so `X`, `W`, `R` (and a Keras model's `input_1`) stay
 * as they are and `--input-shape X=…` works on both files.
 */
function isUsableArgumentName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !RESERVED_NAMES.has(name) && !/^v\d+_/.test(name);
}
