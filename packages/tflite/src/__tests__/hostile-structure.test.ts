import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteBuffer } from 'flatbuffers';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, Model, ModelpassError, Tensor, attrs, tensorType } from '@modelpass/ir';
import { META_METADATA_PREFIX, META_VARIABLE, readTflite, writeTflite } from '@modelpass/tflite';
import { BuiltinOptions, Model as FbModel, SubGraph } from '../generated/flatbuffers/tflite.js';
import { WhileOptions } from '../generated/flatbuffers/tflite/while-options.js';
import { int8ConvModel, whileLoopModel } from './helpers.js';

// Structurally hostile files: each is a valid model written by writeTflite with one field patched in place.
const dir = mkdtempSync(join(tmpdir(), 'modelpass-tflite-hostile-structure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function write(model: Model): Buffer {
  const path = join(dir, `source-${counter++}.tflite`);
  writeTflite(model, path);
  return readFileSync(path);
}

/** Writes `bytes` and reads them (with every constant); returns the ModelpassError it must give. */
function failure(bytes: Uint8Array): ModelpassError {
  const path = join(dir, `case-${counter++}.tflite`);
  writeFileSync(path, bytes);
  try {
    const model = readTflite(path);
    for (const value of model.graph.constants) value.constant!.bytes();
  } catch (error) {
    expect(ModelpassError.is(error), String((error as Error).stack)).toBe(true);
    expect((error as ModelpassError).location?.file).toBe(path);
    return error as ModelpassError;
  }
  throw new Error(`${path} was read without an error`);
}

function fieldPosition(bytes: Uint8Array, table: number, slot: number): number {
  const offset = new ByteBuffer(bytes).__offset(table, 4 + 2 * slot);
  if (offset === 0) throw new Error(`field ${slot} is absent`);
  return table + offset;
}

/** The first element of vector field `slot` of the table at `table`. */
function vectorStart(bytes: Uint8Array, table: number, slot: number): number {
  return new ByteBuffer(bytes).__vector(fieldPosition(bytes, table, slot));
}

/** tflite.ADD of an input of `inputShape` and a [7,13] constant. */
function addOfInputAndConstant(inputShape: number[]): Model {
  const g = new Graph('main');
  const a = g.addInput('a', tensorType('float32', inputShape));
  const w = g.addConstant('w', Tensor.fromValues('float32', [7, 13], Array.from({ length: 91 }, (_, i) => i)));
  const n = g.createNode({ op: 'tflite.ADD', name: 'add', inputs: [a, w], outputs: [{ name: 'y', type: tensorType('float32', [7, 13]) }] });
  g.setOutputs([n.output(0)]);
  const m = new Model(g);
  m.opsetImports.set('tflite', 3);
  return m;
}

function tensorNamed(subgraph: SubGraph, name: string) {
  for (let i = 0; i < subgraph.tensorsLength(); i++) if (subgraph.tensors(i)!.name() === name) return subgraph.tensors(i)!;
  throw new Error(`no tensor ${name}`);
}

describe('structurally hostile .tflite files', () => {
  const loop = write(whileLoopModel());
  const file = FbModel.getRootAsModel(new ByteBuffer(loop));
  const options = file.subgraphs(0)!.operators(0)!.builtinOptions(new WhileOptions()) as WhileOptions;
  const bodyIndexAt = fieldPosition(loop, options.bb_pos, 1);

  it('refuses a WHILE body index out of range or calling its own subgraph', () => {
    for (const [index, message] of [
      [99, 'subgraph index 99 is past the 3 subgraphs'],
      [-1, 'subgraph index -1 is past the 3 subgraphs'],
      [0, 'subgraph 0 calls itself'],
    ] as const) {
      const bytes = Buffer.from(loop);
      bytes.writeInt32LE(index, bodyIndexAt);
      expect(failure(bytes).message).toContain(message);
    }
  });

  it('refuses negative dims and constants whose shape outgrows their data', () => {
    const shape = vectorStart(loop, tensorNamed(file.subgraphs(0)!, 'x0').bb_pos, 0);
    const negative = Buffer.from(loop);
    negative.writeInt32LE(-5, shape);
    expect(failure(negative).message).toContain('tensors[1].shape[0]: dimension -5 is negative');

    // A shape vector claiming 50M dims in a sparse file that holds them: refused before they are read.
    const longShape = Buffer.from(loop);
    longShape.writeUInt32LE(50 * 2 ** 20, shape - 4);
    const sparse = join(dir, 'long-shape.tflite');
    writeFileSync(sparse, longShape);
    truncateSync(sparse, shape + 200 * 2 ** 20 + 16);
    const started = Date.now();
    expect(() => readTflite(sparse)).toThrow(/tensors\[1\]\.shape: 52428800 entries are more than the 64 allowed/);
    expect(Date.now() - started).toBeLessThan(10_000);

    const factor = vectorStart(loop, tensorNamed(file.subgraphs(options.bodySubgraphIndex())!, 'factor').bb_pos, 0);
    const huge = Buffer.from(loop);
    huge.writeInt32LE(65536, factor);
    huge.writeInt32LE(32768, factor + 4);
    expect(failure(huge).message).toMatch(/tensor 'factor' .* has 16 bytes of data, but float32\[65536,32768\] needs 8589934592/);
  });

  it('refuses quantization scales that are 0, negative, NaN or infinite, naming the tensor', () => {
    const int8 = write(int8ConvModel());
    const subgraph = FbModel.getRootAsModel(new ByteBuffer(int8)).subgraphs(0)!;
    for (const name of ['input', 'filter', 'output']) {
      const tensor = tensorNamed(subgraph, name);
      const scale = vectorStart(int8, tensor.quantization()!.bb_pos, 2);
      for (const value of [0, -0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        const bytes = Buffer.from(int8);
        bytes.writeFloatLE(value, scale);
        const error = failure(bytes);
        expect(error.message).toMatch(/tensors\[\d+\]\.quantization\.scale\[0\]: quantization scale .* is not a positive finite number/);
        expect(error.message).toContain(String(value));
      }
      // More scales than the tensor has entries along any dim: refused before the vector is read.
      const many = Buffer.from(int8);
      many.writeUInt32LE(2 ** 24, scale - 4);
      expect(failure(many).message).toMatch(/quantization\.scale: 16777216 entries are more than the [34] allowed/);
    }
  });

  it('stops a file whose subgraphs call the next one twice (exponential copies) instead of importing 2^24 regions', () => {
    const count = () => tensorType('int32', [1]);
    const condition = (): Graph => {
      const graph = new Graph('cond');
      const i = graph.addInput('i', count());
      const limit = graph.addConstant('limit', Tensor.fromValues('int32', [1], [3]));
      const less = graph.createNode({ op: 'tflite.LESS', inputs: [i, limit], outputs: [{ name: 'more', type: tensorType('bool', [1]) }] });
      graph.setOutputs([less.output(0)]);
      return graph;
    };
    // body(d) holds one WHILE over body(d-1): a chain of 24 loops, 49 subgraphs, read in linear time.
    const body = (depth: number): Graph => {
      const graph = new Graph(`body${depth}`);
      const i = graph.addInput('i', count());
      const op = depth === 0 ? 'tflite.ADD' : 'tflite.WHILE';
      const inputs = depth === 0 ? [i, graph.addConstant('one', Tensor.fromValues('int32', [1], [1]))] : [i];
      const node = graph.createNode({ op, inputs, outputs: [{ name: 'next', type: count() }], ...(depth === 0 ? { attributes: { fused_activation_function: attrs.string('NONE') } } : {}) });
      if (depth > 0) {
        node.setAttribute('cond_subgraph', attrs.graph(condition()));
        node.setAttribute('body_subgraph', attrs.graph(body(depth - 1)));
      }
      graph.setOutputs([node.output(0)]);
      return graph;
    };
    const model = new Model(body(24));
    model.opsetImports.set('tflite', 3);
    const chain = write(model);
    const path = join(dir, 'chain.tflite');
    writeFileSync(path, chain);
    expect(readTflite(path).graph.nodeCount).toBe(1);
    // Each WHILE's cond index patched to its body's: every level calls the next level twice.
    const dag = Buffer.from(chain);
    const parsed = FbModel.getRootAsModel(new ByteBuffer(dag));
    for (let s = 0; s < parsed.subgraphsLength(); s++) {
      const operator = parsed.subgraphs(s)!.operators(0);
      const loopOptions = operator?.builtinOptions(new WhileOptions()) as WhileOptions | null | undefined;
      if (!operator || operator.builtinOptionsType() !== BuiltinOptions.WhileOptions || !loopOptions) continue;
      dag.writeInt32LE(loopOptions.bodySubgraphIndex(), fieldPosition(dag, loopOptions.bb_pos, 0));
    }
    const started = Date.now();
    const error = failure(dag);
    expect(error.message).toMatch(/copying subgraph \d+ for every operator that calls it \(\d+ operators imported so far from the file's 49, ×\d+\) is over the TFLite reader's maxRegionExpansion limit/);
    expect(Date.now() - started).toBeLessThan(60_000); // without the limit: minutes and gigabytes
  });

  it('refuses a metadata entry larger than maxMetadataBytes before reading it (a sparse file claimed 2 GiB)', () => {
    const model = whileLoopModel();
    model.metadata.set(`${META_METADATA_PREFIX}notes`, Buffer.alloc(64, 7).toString('base64'));
    const bytes = write(model);
    const parsed = FbModel.getRootAsModel(new ByteBuffer(bytes));
    const buffer = parsed.buffers(parsed.metadata(0)!.buffer())!;
    const data = vectorStart(bytes, buffer.bb_pos, 0);
    const sparse = join(dir, 'metadata-sparse.tflite');
    const claimed = Buffer.from(bytes);
    claimed.writeUInt32LE(128 * 2 ** 20, data - 4);
    writeFileSync(sparse, claimed);
    truncateSync(sparse, data + 128 * 2 ** 20 + 16); // a hole: 128 MiB on paper, nothing on disk
    const before = process.memoryUsage().rss;
    expect(() => readTflite(sparse)).toThrow(/metadata 'notes' \(model\.metadata\[0\], 134217728 bytes\) is over the TFLite reader's maxMetadataBytes limit/);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 2 ** 20);
    const small = join(dir, 'metadata-small.tflite');
    writeFileSync(small, bytes);
    expect(readTflite(small).metadata.get(`${META_METADATA_PREFIX}notes`)).toBe(Buffer.alloc(64, 7).toString('base64'));
    expect(() => readTflite(small, { limits: { maxMetadataBytes: 63 } })).toThrow(/maxMetadataBytes/);
  });

  it('refuses custom options over maxCustomOptionsBytes before reading them', () => {
    const graph = new Graph('main');
    const x = graph.addInput('x', tensorType('float32', [1, 4]));
    const custom = graph.createNode({
      op: 'tflite.CUSTOM',
      inputs: [x],
      outputs: [{ name: 'y', type: tensorType('float32', [1, 4]) }],
      attributes: { custom_code: attrs.string('Frob'), custom_options: attrs.tensor(Tensor.fromBytes('uint8', [16], new Uint8Array(16).fill(9))), custom_options_format: attrs.string('FLEXBUFFERS') },
    });
    graph.setOutputs([custom.output(0)]);
    const model = new Model(graph);
    model.opsetImports.set('tflite', 3);
    const bytes = write(model);
    const operator = FbModel.getRootAsModel(new ByteBuffer(bytes)).subgraphs(0)!.operators(0)!;
    const options = vectorStart(bytes, operator.bb_pos, 5);
    expect(bytes.readUInt32LE(options - 4)).toBe(16);
    const small = join(dir, 'custom-small.tflite');
    writeFileSync(small, bytes);
    expect(() => readTflite(small, { limits: { maxCustomOptionsBytes: 15 } })).toThrow(/custom_options: 16 entries are more than the 15 allowed/);
    const claimed = Buffer.from(bytes);
    claimed.writeUInt32LE(128 * 2 ** 20, options - 4);
    const sparse = join(dir, 'custom-sparse.tflite');
    writeFileSync(sparse, claimed);
    truncateSync(sparse, options + 128 * 2 ** 20 + 16);
    expect(() => readTflite(sparse)).toThrow(/operators\[0\]\.custom_options: 134217728 entries are more than the 67108864 allowed/);
  });

  it('bounds the zeros of a variable tensor by maxVariableBytes instead of allocating what the shape claims', () => {
    const graph = new Graph('main');
    const x = graph.addInput('x', tensorType('float32', [1, 4]));
    const state = graph.addConstant('state', Tensor.fromValues('float32', [1, 4], [0, 0, 0, 0]));
    state.metadata.set(META_VARIABLE, '1');
    const add = graph.createNode({ op: 'tflite.ADD', inputs: [x, state], outputs: [{ name: 'y', type: tensorType('float32', [1, 4]) }], attributes: { fused_activation_function: attrs.string('NONE') } });
    graph.setOutputs([add.output(0)]);
    const model = new Model(graph);
    model.opsetImports.set('tflite', 3);
    const bytes = write(model);
    const shape = vectorStart(bytes, tensorNamed(FbModel.getRootAsModel(new ByteBuffer(bytes)).subgraphs(0)!, 'state').bb_pos, 0);
    for (const [rows, columns] of [[262144, 1024], [65536, 32768]]) {
      const hostile = Buffer.from(bytes);
      hostile.writeInt32LE(rows!, shape);
      hostile.writeInt32LE(columns!, shape + 4);
      const error = failure(hostile);
      expect(error.message).toMatch(/variable tensor 'state' .* is over the TFLite reader's maxVariableBytes limit/);
      expect(error.diagnostics[0]!.code).toBe('tflite/read-limit/maxVariableBytes');
    }
  });
  it('refuses an ADD of an input and a constant whose declared shapes cannot broadcast, naming both (TFLite refuses it at prepare)', () => {
    const build = addOfInputAndConstant;
    // The writer refuses to write such a file (below), so the hostile one is a valid file with the input's dim patched.
    const valid = write(build([1, 13]));
    const hostile = Buffer.from(valid);
    hostile.writeInt32LE(1048576, vectorStart(valid, tensorNamed(FbModel.getRootAsModel(new ByteBuffer(valid)).subgraphs(0)!, 'a').bb_pos, 0));
    const error = failure(hostile);
    expect(error.message).toContain("ADD's operand shapes cannot broadcast: 'a' [1048576,13] (an input) and 'w' [7,13] (a constant)");
    expect(error.location).toMatchObject({ path: 'subgraph 0/operator 0', op: 'tflite.ADD' });
    const path = join(dir, `case-${counter++}.tflite`);
    writeFileSync(path, write(build([1, 13])));
    expect(readTflite(path).graph.inputs[0]!.type).toEqual(tensorType('float32', [1, 13]));
  });

  // Passes fuzz seed 1811 case 150: an opset-6 Mul whose legacy broadcast=1 B [3,1] does not fit A [2,3] at axis 0
  // legalized to a MUL of [2,3] and [3,1]; writeTflite wrote it and readTflite refused the file it had written.
  it('is not written either: writeTflite refuses the node, naming both operands', () => {
    let error: unknown;
    try {
      write(addOfInputAndConstant([1048576, 13]));
    } catch (caught) {
      error = caught;
    }
    expect(ModelpassError.is(error), String(error)).toBe(true);
    expect((error as ModelpassError).diagnostics[0]!.code).toBe('tflite/not-exportable');
    expect((error as ModelpassError).message).toContain("ADD's operand shapes cannot broadcast: 'a' [1048576,13] (an input) and 'w' [7,13] (a constant); TFLite refuses it when it prepares the operator");
  });
});
