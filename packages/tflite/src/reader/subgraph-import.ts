import { attrs, byteLengthOf, Graph, Tensor, type Attribute, type Value } from '@modelpass/ir';
import { BUILTIN_OPTIONS_UNION, BUILTIN_OPTIONS2_UNION, TABLE_SLOTS, TFLITE_ENUMS } from '../generated/schema-tables.js';
import { tfliteOpName } from '../dialect/names.js';
import { optionsTableOfBuiltin } from '../dialect/option-attributes.js';
import { tfliteError } from '../io/errors.js';
import { META_OPERATOR_VERSION, META_TENSOR_NAME, META_VARIABLE } from '../io/metadata-keys.js';
import { checkOperandsBroadcast } from './broadcast-check.js';
import { checkIntegerOperands } from './integer-operand-check.js';
import { checkWindowOptions } from './window-option-check.js';
import { checkPreparable } from './prepare-checks.js';
import type { ImportContext } from './import-context.js';
import { importOptions } from './options-import.js';
import { REGION_EXPANSION_FLOOR, tfliteLimitExceeded } from './read-limits.js';
import { constantOf, readRange, readTensorInfo, type TensorInfo } from './tensor-import.js';
import type { TableReader } from './table-reader.js';

const G = TABLE_SLOTS.SubGraph;
const O = TABLE_SLOTS.Operator;

/**
 * Imports subgraph `index` of the file into `graph` (empty, already attached where it belongs so
 * its names stay unique among enclosing graphs). `stack` holds the subgraphs being imported around
 * it (a subgraph that calls itself is refused).
 */
export function importSubgraph(ctx: ImportContext, index: number, graph: Graph, stack: readonly number[]): void {
  const subgraph = ctx.subgraphs[index];
  if (!subgraph) throw tfliteError({ reason: `malformed TFLite file: subgraph index ${index} is past the ${ctx.subgraphs.length} subgraphs`, location: { file: ctx.file }, code: 'tflite/malformed' });
  if (stack.includes(index)) {
    throw tfliteError({ reason: `malformed TFLite file: subgraph ${index} calls itself (through ${[...stack, index].join(' → ')})`, location: { file: ctx.file }, code: 'tflite/malformed' });
  }
  if (stack.length >= ctx.limits.maxNestingDepth) throw tfliteLimitExceeded('maxNestingDepth', `subgraph nesting (${stack.length + 1})`, stack.length + 1, ctx.limits.maxNestingDepth, ctx.file);
  if (stack.length > 0) ctx.called.add(index);
  new SubgraphImporter(ctx, subgraph, index, graph, [...stack, index]).run();
}

class SubgraphImporter {
  private readonly tensors: TensorInfo[];
  private readonly values = new Map<number, Value>();
  /** DENSIFY outputs folded into their densified constant: output tensor → sparse input tensor. */
  private readonly densified = new Map<number, number>();

  constructor(
    private readonly ctx: ImportContext,
    private readonly subgraph: TableReader,
    private readonly index: number,
    private readonly graph: Graph,
    private readonly stack: readonly number[],
  ) {
    this.tensors = subgraph.tables(G.tensors, 'tensors').map((table, i) => readTensorInfo(ctx, table, i));
  }

  private tensor(index: number, path: string): TensorInfo {
    const info = this.tensors[index];
    if (!info) {
      this.ctx.bytes.fail(
        path,
        index < 0
          ? `tensor index ${index} is negative (an operator's optional operand may be -1, absent; nothing else)`
          : `tensor index ${index} is past the ${this.tensors.length} tensors of subgraph ${this.index}`,
      );
    }
    return info;
  }

  private define(info: TensorInfo, create: (name: string) => Value): Value {
    const value = create(this.graph.uniqueName(info.name));
    if (value.name !== info.name) value.metadata.set(META_TENSOR_NAME, info.name);
    this.values.set(info.index, value);
    return value;
  }

  /** The value of tensor `index` as an operand: defined already, or a constant made on first use. */
  private operand(index: number, path: string): Value {
    const existing = this.values.get(index);
    if (existing) return existing;
    const folded = this.densified.get(index);
    const info = this.tensor(index, path);
    const dataInfo = folded === undefined ? info : this.tensor(folded, path);
    const constant = constantOf(this.ctx, dataInfo);
    if (constant && info.isVariable) {
      // TFLite 2.9 refuses the file when it builds the interpreter: 'Tensor N is a variable tensor with buffer'.
      this.ctx.bytes.fail(info.path, `variable tensor '${info.name}' has data in its buffer (a variable starts as zeros; TFLite refuses a variable with a buffer)`);
    }
    if (constant) return this.define(info, (name) => this.graph.addConstant(name, constant.quant === info.type.quant ? constant : constant.withQuant(info.type.quant)));
    if (info.isVariable) {
      const count = info.staticShape.reduce((a, b) => a * b, 1);
      const bytes = byteLengthOf(info.dtype, count);
      const limit = Math.min(this.ctx.limits.maxVariableBytes, this.ctx.limits.maxTensorBytes);
      if (bytes > limit) {
        throw tfliteLimitExceeded('maxVariableBytes', `variable tensor '${info.name}' (${info.path}, ${info.dtype}[${info.staticShape.join(',')}], ${bytes} bytes)`, bytes, limit, this.ctx.file);
      }
      const zeros = Tensor.fromBytes(info.dtype, info.staticShape, new Uint8Array(byteLengthOf(info.dtype, count)), info.type.quant);
      const value = this.define(info, (name) => this.graph.addConstant(name, zeros));
      value.metadata.set(META_VARIABLE, '1');
      return value;
    }
    if (info.staticShape.some((dim) => dim === 0) && info.type.shape !== null) {
      return this.define(info, (name) => this.graph.addConstant(name, Tensor.fromBytes(info.dtype, info.staticShape, new Uint8Array(0), info.type.quant)));
    }
    throw tfliteError({
      reason: `malformed TFLite file: ${path} reads tensor ${index} '${info.name}', which no operator writes before and which is neither an input nor a constant`,
      location: { file: this.ctx.file, path: `subgraph ${this.index}` },
      code: 'tflite/malformed',
    });
  }

  run(): void {
    const { ctx, subgraph, graph } = this;
    const name = subgraph.string(G.name, 'name');
    if (name && this.index > 0) graph.name = name;
    for (const index of subgraph.numbers(G.inputs, 'int32', 'inputs')) {
      const info = this.tensor(index, `${subgraph.path}.inputs`);
      if (this.values.has(index)) continue;
      this.define(info, (n) => graph.addInput(n, info.type));
    }
    const operators = subgraph.tables(G.operators, 'operators');
    ctx.nodeCount += operators.length;
    if (ctx.nodeCount > ctx.limits.maxNodeCount) throw tfliteLimitExceeded('maxNodeCount', `the operator count (${ctx.nodeCount})`, ctx.nodeCount, ctx.limits.maxNodeCount, ctx.file);
    if (ctx.nodeCount > Math.max(REGION_EXPANSION_FLOOR, ctx.fileNodeCount * ctx.limits.maxRegionExpansion)) {
      const factor = Math.ceil(ctx.nodeCount / Math.max(1, ctx.fileNodeCount));
      throw tfliteLimitExceeded(
        'maxRegionExpansion',
        `copying subgraph ${this.index} for every operator that calls it (${ctx.nodeCount} operators imported so far from the file's ${ctx.fileNodeCount}, ×${factor})`,
        factor,
        ctx.limits.maxRegionExpansion,
        ctx.file,
      );
    }
    operators.forEach((operator, i) => this.importOperator(operator, i));
    const outputs = subgraph.numbers(G.outputs, 'int32', 'outputs').map((index) => this.operand(index, `${subgraph.path}.outputs`));
    graph.setOutputs(outputs);
  }

  private importOperator(operator: TableReader, position: number): void {
    const { ctx } = this;
    const opcodeIndex = operator.scalar(O.opcode_index, 'uint32', 0, 'opcode_index');
    const code = ctx.operatorCodes[opcodeIndex];
    if (!code) ctx.bytes.fail(`${operator.path}.opcode_index`, `${opcodeIndex} is past the ${ctx.operatorCodes.length} operator codes`);
    const inputIndices = operator.numbers(O.inputs, 'int32', 'inputs');
    const outputIndices = operator.numbers(O.outputs, 'int32', 'outputs');
    const loc = { file: ctx.file, path: `subgraph ${this.index}/operator ${position}`, op: tfliteOpName(code.builtin) };

    if (operator.numbers(O.intermediates, 'int32', 'intermediates').length > 0) {
      throw tfliteError({ reason: `operator ${position} (${code.builtin}) has intermediate tensors, which are not supported yet`, location: loc, code: 'tflite/unsupported' });
    }
    // A DENSIFY of a sparse constant is folded: the reader densifies the constant itself.
    if (code.builtin === 'DENSIFY' && inputIndices.length === 1 && outputIndices.length === 1) {
      const input = this.tensor(inputIndices[0]!, `${operator.path}.inputs`);
      if (input.sparsity && !this.values.has(input.index)) {
        this.densified.set(outputIndices[0]!, input.index);
        return;
      }
    }

    const attributes = new Map<string, Attribute>();
    const subgraphRefs: { attribute: string; index: number }[] = [];
    if (code.builtin === 'CUSTOM') {
      attributes.set('custom_code', attrs.string(code.customCode ?? ''));
      const bytes = this.customOptions(operator);
      if (bytes) attributes.set('custom_options', attrs.tensor(Tensor.fromBytes('uint8', [bytes.byteLength], bytes)));
      const format = operator.scalar(O.custom_options_format, 'int8', 0, 'custom_options_format');
      const formatName = Object.entries(TFLITE_ENUMS.CustomOptionsFormat!).find(([, v]) => v === format)?.[0];
      attributes.set('custom_options_format', attrs.string(formatName ?? String(format)));
    } else {
      for (const [slot, union, field] of [[O.builtin_options, BUILTIN_OPTIONS_UNION, 'builtin_options'], [O.builtin_options_2, BUILTIN_OPTIONS2_UNION, 'builtin_options_2']] as const) {
        const read = operator.union(slot, field);
        const fileTable = read.type === 0 ? undefined : union[read.type - 1];
        if (read.type !== 0 && !fileTable) ctx.bytes.fail(`${operator.path}.${field}_type`, `unknown options type ${read.type}`);
        const expected = optionsTableOfBuiltin(code.builtin);
        const table = fileTable ?? (expected && (expected.union === 1) === (slot === O.builtin_options) ? expected.table : undefined);
        if (!table) continue;
        const options = importOptions(table, read.table);
        for (const [key, value] of options.attributes) attributes.set(key, value);
        subgraphRefs.push(...options.subgraphs);
      }
    }

    // -1 is an absent optional operand; any other negative index is a broken file (the tensor() check names it).
    const inputs = inputIndices.map((index) => (index === -1 ? null : this.operand(index, `${operator.path}.inputs`)));
    checkOperandsBroadcast(code.builtin, inputs, loc);
    checkIntegerOperands(code.builtin, inputs, loc);
    checkWindowOptions(code.builtin, attributes, loc);
    checkPreparable(code.builtin, inputs, loc);
    const outputInfos = outputIndices.map((index) => (index === -1 ? null : this.tensor(index, `${operator.path}.outputs`)));
    outputInfos.forEach((info) => {
      if (info && this.values.has(info.index)) {
        throw tfliteError({ reason: `malformed TFLite file: operator ${position} (${code.builtin}) writes tensor '${info.name}', which is already defined`, location: loc, code: 'tflite/malformed' });
      }
    });
    const firstOutput = outputInfos.find((info) => info !== null);
    const node = this.graph.createNode({
      op: tfliteOpName(code.builtin),
      name: this.graph.uniqueNodeName(firstOutput?.name ?? code.builtin),
      inputs,
      outputs: outputInfos.map((info) => (info ? { name: this.graph.uniqueName(info.name), type: info.type } : null)),
      attributes,
      loc,
    });
    node.outputs.forEach((value, i) => {
      const info = outputInfos[i];
      if (!value || !info) return;
      if (value.name !== info.name) value.metadata.set(META_TENSOR_NAME, info.name);
      this.values.set(info.index, value);
    });
    node.metadata.set(META_OPERATOR_VERSION, String(code.version));
    for (const ref of subgraphRefs) {
      const body = new Graph(`subgraph_${ref.index}`);
      node.setAttribute(ref.attribute, attrs.graph(body));
      importSubgraph(ctx, ref.index, body, this.stack);
    }
  }

  private customOptions(operator: TableReader): Uint8Array | undefined {
    const limit = this.ctx.limits.maxCustomOptionsBytes;
    const inline = operator.vector(O.custom_options, 1, 'custom_options', limit);
    if (inline) return this.ctx.bytes.bytes.slice(inline.start, inline.start + inline.length);
    const offset = operator.scalar(O.large_custom_options_offset, 'uint64', 0, 'large_custom_options_offset');
    const size = operator.scalar(O.large_custom_options_size, 'uint64', 0, 'large_custom_options_size');
    if (offset <= 1 || size === 0) return undefined;
    if (size > limit) throw tfliteLimitExceeded('maxCustomOptionsBytes', `the custom options of ${operator.path} (${size} bytes)`, size, limit, this.ctx.file);
    if (offset + size > this.ctx.source.size) this.ctx.bytes.fail(`${operator.path}.large_custom_options_offset`, `custom options at [${offset}, ${offset + size}) are past the end of the file`);
    return readRange(this.ctx, { offset, length: size });
  }
}
