import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { ByteBuffer } from 'flatbuffers';
import { Model as FbModel } from '../generated/flatbuffers/tflite.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, Model, ModelpassError, Tensor, attrs, formatDiagnostic, tensorType, verifyModel, type Node } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { META_OPERATOR_VERSION, META_SIGNATURE_DEFS, META_VARIABLE, readTflite, registerTfliteDialect, writeTflite } from '@modelpass/tflite';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';
import { int8ConvModel, whileLoopModel, FILTER_QUANT, INPUT_QUANT } from './helpers.js';
import { inspectFile } from './inspect-file.js';

const models = await ensureThirdPartyModels({ format: 'tflite' });
const dir = mkdtempSync(join(tmpdir(), 'modelpass-tflite-rt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function signature(node: Node): string {
  const attributes = [...node.attributes].map(([name, a]) => {
    if (a.kind === 'tensor') return `${name}=tensor(${Buffer.from(a.value.bytes()).toString('hex')})`;
    if (a.kind === 'graph') return `${name}=graph(${a.value.nodeCount})`;
    return `${name}=${JSON.stringify(a.kind === 'ref' ? a.refName : a.value)}`;
  });
  const values = (list: Node['inputs']) => list.map((v) => (v ? `${v.name}:${JSON.stringify(v.type)}` : '-')).join(',');
  return `${node.op}(${values(node.inputs)}) -> ${values(node.outputs)} {${attributes.join(' ')}} v${node.metadata.get(META_OPERATOR_VERSION)}`;
}

function expectSameModel(a: Model, b: Model): void {
  expect(b.graph.inputs.map((v) => [v.name, v.type])).toEqual(a.graph.inputs.map((v) => [v.name, v.type]));
  expect(b.graph.outputs.map((v) => [v.name, v.type])).toEqual(a.graph.outputs.map((v) => [v.name, v.type]));
  expect([...b.graph.allNodes()].map(signature)).toEqual([...a.graph.allNodes()].map(signature));
  const constants = (m: Model) => new Map(m.graph.constants.map((v) => [v.name, Buffer.from(v.constant!.bytes()).toString('base64')]));
  expect(constants(b)).toEqual(constants(a));
}

describe('TFLite reader on MediaPipe models', () => {
  it.each(models.map((m) => [m.id, m] as const))('%s: inputs, outputs and ops as the file says', (_id, entry) => {
    const model = readTflite(entry.path);
    expect(model.sourceFormat).toBe('tflite');
    expect(model.opset('tflite')).toBe(3);
    expect(model.graph.inputs.map((v) => [v.name, v.type.kind === 'tensor' ? v.type.shape : null])).toEqual(entry.inputs.map((i) => [i.name, i.shape]));
    expect(model.graph.outputs.map((v) => v.name)).toEqual(entry.outputs.map((o) => o.name));
    for (const node of model.graph.allNodes()) expect(node.dialect).toBe('tflite');
    // The dialect's schemas (attributes, operands, inferred shapes) agree with what the file declares.
    expect(verifyModel(model, { registry: registerTfliteDialect(createOpRegistry()) }).map(formatDiagnostic)).toEqual([]);
    // fp16 weights behind DEQUANTIZE: the constants keep their float16 type.
    expect(model.graph.constants.some((v) => v.constant!.dtype === 'float16')).toBe(true);
  });

  it.each(models.map((m) => [m.id, m] as const))('%s: reading through a small first window gives the same model', (_id, entry) => {
    expectSameModel(readTflite(entry.path), readTflite(entry.path, { initialReadBytes: 256 }));
  });

  it('keeps big weights in the file (lazy) and copies small ones', () => {
    const entry = models.find((m) => m.id === 'mediapipe-face-detection-full-range')!;
    const model = readTflite(entry.path);
    const kinds = new Set(model.graph.constants.map((v) => v.constant!.storage!.kind));
    expect(kinds).toEqual(new Set(['memory', 'file-range']));
    const lazy = model.graph.constants.find((v) => v.constant!.storage!.kind === 'file-range')!;
    expect(lazy.constant!.storage!.describe()).toContain(entry.path);
  });

  it('densifies the sparse model\'s constants and folds its DENSIFY ops', () => {
    const entry = models.find((m) => m.id === 'mediapipe-face-detection-full-range-sparse')!;
    const info = inspectFile(readFileSync(entry.path));
    const densify = info.operatorCodes.indexOf('DENSIFY');
    const densifyCount = info.subgraphs[0]!.operators.filter((op) => op.opcode === densify).length;
    expect(densifyCount).toBeGreaterThan(0);
    const model = readTflite(entry.path);
    expect([...model.graph.allNodesOf('tflite.DENSIFY')]).toHaveLength(0);
    expect(model.graph.nodeCount).toBe(info.subgraphs[0]!.operators.length - densifyCount);
  });

  it('reads the selfie model\'s custom op as tflite.CUSTOM with its code and raw options', () => {
    const entry = models.find((m) => m.id === 'mediapipe-selfie-segmentation')!;
    const [custom, ...others] = [...readTflite(entry.path).graph.allNodesOf('tflite.CUSTOM')];
    expect(others).toHaveLength(0);
    expect(custom!.attr('custom_code', 'string')).toBe('Convolution2DTransposeBias');
    expect(custom!.attr('custom_options_format', 'string')).toBe('FLEXBUFFERS');
    expect(custom!.inputs).toHaveLength(3);
  });
});

describe('TFLite writer', () => {
  it.each(models.map((m) => [m.id, m] as const))('%s: read → write → read gives the same model', (_id, entry) => {
    const model = readTflite(entry.path);
    const out = join(dir, `${entry.id}.tflite`);
    writeTflite(model, out);
    expectSameModel(model, readTflite(out));
    const file = inspectFile(readFileSync(out));
    expect(file.identifier).toBe('TFL3');
    expect(file.buffers[0]).toEqual({ dataLength: 0, dataStart: undefined, offset: 0, size: 0 });
    for (const buffer of file.buffers) if (buffer.dataStart !== undefined) expect(buffer.dataStart % 16).toBe(0);
    for (const code of file.operatorCodesRaw) expect(code.deprecated).toBe(Math.min(code.builtin, 127));
    // Versions are the original file's.
    // (Old files set only the byte field: the code is the larger of the two. The sparse model's DENSIFY is folded.)
    const codes = (list: typeof file.operatorCodesRaw) => list.map((c) => `${Math.max(c.builtin, c.deprecated)}:${c.version}`).filter((c) => !c.startsWith('124:'));
    expect(codes(file.operatorCodesRaw).sort()).toEqual([...new Set(codes(inspectFile(readFileSync(entry.path)).operatorCodesRaw))].sort());
  });

  it('reads back a zero-element constant (a RESHAPE to a scalar, as Det and Size lowerings write)', () => {
    const graph = new Graph('main');
    const x = graph.addInput('x', tensorType('float32', [1]));
    const scalarShape = graph.addConstant('scalar_shape', Tensor.fromValues('int32', [0], []));
    const reshape = graph.createNode({ op: 'tflite.RESHAPE', inputs: [x, scalarShape], outputs: [{ name: 'y', type: tensorType('float32', []) }] });
    graph.setOutputs([reshape.output(0)]);
    const model = new Model(graph);
    model.opsetImports.set('tflite', 3);
    const out = join(dir, 'scalar-reshape.tflite');
    writeTflite(model, out);
    const back = readTflite(out);
    const node = back.graph.nodeList().find((n) => n.op === 'tflite.RESHAPE')!;
    const shapeInput = node.inputs[1]!;
    expect(shapeInput.constant?.shape).toEqual([0]);
    expect(shapeInput.constant?.dtype).toBe('int32');
    expect(back.graph.outputs[0]!.type).toMatchObject({ kind: 'tensor', dtype: 'float32', shape: [] });
  });

  it('round-trips the custom op byte for byte', () => {
    const entry = models.find((m) => m.id === 'mediapipe-selfie-segmentation-landscape')!;
    const out = join(dir, 'selfie.tflite');
    writeTflite(readTflite(entry.path), out);
    const before = inspectFile(readFileSync(entry.path)).customOptions;
    const after = inspectFile(readFileSync(out)).customOptions;
    expect(after).toHaveLength(1);
    expect(after).toEqual(before);
  });

  it('writes WHILE regions as subgraphs, signature defs, quantized types and int4 constants, and reads them back', () => {
    const model = whileLoopModel();
    const quantized = int8ConvModel();
    const out = join(dir, 'while.tflite');
    writeTflite(model, out);
    const back = readTflite(out);
    const loop = [...back.graph.nodesOf('tflite.WHILE')][0]!;
    expect(loop.attr('cond_subgraph', 'graph').nodeCount).toBe(1);
    expect(loop.attr('body_subgraph', 'graph').nodeCount).toBe(2);
    expect([...loop.attr('body_subgraph', 'graph').nodes()].map((n) => n.op)).toEqual(['tflite.ADD', 'tflite.MUL']);
    expect(inspectFile(readFileSync(out)).subgraphs).toHaveLength(3);
    expect(JSON.parse(back.metadata.get(META_SIGNATURE_DEFS)!)).toEqual(JSON.parse(model.metadata.get(META_SIGNATURE_DEFS)!));

    const convOut = join(dir, 'conv.tflite');
    const int4 = quantized.graph.addConstant('nibbles', Tensor.fromValues('int4', [5], [-8, 7, 0, 3, -1], { scale: [0.5], zeroPoint: [0], bits: 4 }));
    const dq = quantized.graph.createNode({ op: 'tflite.DEQUANTIZE', inputs: [int4], outputs: [{ name: 'nibbles_f', type: tensorType('float32', [5]) }] });
    quantized.graph.addOutput(dq.output(0));
    writeTflite(quantized, convOut);
    const convBack = readTflite(convOut);
    const conv = [...convBack.graph.nodesOf('tflite.CONV_2D')][0]!;
    expect(conv.inputs[0]!.type).toEqual(tensorType('int8', [1, 4, 4, 2], INPUT_QUANT));
    expect(conv.inputs[1]!.type).toEqual(tensorType('int8', [3, 3, 3, 2], FILTER_QUANT));
    expect(conv.inputs[2]!.constant!.toNumbers()).toEqual([100, -250, 40]);
    expect(conv.attr('fused_activation_function', 'string')).toBe('RELU6');
    expect(convBack.graph.getValue('nibbles')!.constant!.toNumbers()).toEqual([-8, 7, 0, 3, -1]);
    // A created int8 CONV_2D gets the version TFLite added int8 in.
    expect(conv.metadata.get(META_OPERATOR_VERSION)).toBe('3');
  });

  it('writes tflite functions as extra subgraphs with their signatures, and variable tensors without data', () => {
    const model = whileLoopModel();
    const body = new Graph('decode');
    const input = body.addInput('tokens', tensorType('float32', [2]));
    const state = body.addConstant('state', Tensor.fromValues('float32', [2], [0, 0]));
    state.metadata.set(META_VARIABLE, '1');
    const sum = body.createNode({ op: 'tflite.ADD', inputs: [input, state], outputs: [{ name: 'decoded', type: tensorType('float32', [2]) }] });
    body.setOutputs([sum.output(0)]);
    model.functions.push({ dialect: 'tflite', name: 'decode', attributeNames: [], attributeDefaults: new Map(), opsetImports: new Map(), body, metadata: new Map() });
    const signatures = JSON.parse(model.metadata.get(META_SIGNATURE_DEFS)!);
    signatures.push({ key: 'decode', subgraph: 'decode', inputs: [{ name: 'tokens', tensor: 'tokens' }], outputs: [{ name: 'out', tensor: 'decoded' }] });
    model.metadata.set(META_SIGNATURE_DEFS, JSON.stringify(signatures));
    const out = join(dir, 'functions.tflite');
    writeTflite(model, out);
    const file = FbModel.getRootAsModel(new ByteBuffer(readFileSync(out)));
    expect(file.subgraphsLength()).toBe(4);
    expect(file.subgraphs(3)!.name()).toBe('decode');
    expect(file.signatureDefs(1)!.subgraphIndex()).toBe(3);
    const variable = [...Array(file.subgraphs(3)!.tensorsLength()).keys()].map((i) => file.subgraphs(3)!.tensors(i)!).find((t) => t.name() === 'state')!;
    expect(variable.isVariable()).toBe(true);
    expect(variable.buffer()).toBe(0);
    const back = readTflite(out);
    expect(back.functions.map((fn) => [fn.name, fn.body.name])).toEqual([['subgraph_3', 'decode']]);
    expect(JSON.parse(back.metadata.get(META_SIGNATURE_DEFS)!)[1]).toEqual({ key: 'decode', subgraph: 'subgraph_3', inputs: [{ name: 'tokens', tensor: 'tokens' }], outputs: [{ name: 'out', tensor: 'decoded' }] });
    expect(back.functions[0]!.body.getValue('state')!.metadata.get(META_VARIABLE)).toBe('1');
  });

  it('stores buffers after the flatbuffer past the threshold, 16-byte aligned, and reads them back', () => {
    const entry = models.find((m) => m.id === 'mediapipe-face-detection-short-range')!;
    const model = readTflite(entry.path);
    const out = join(dir, 'external.tflite');
    writeTflite(model, out, { externalBuffersAbove: 0 });
    const file = inspectFile(readFileSync(out));
    const external = file.buffers.filter((b) => b.offset > 1);
    expect(external.length).toBeGreaterThan(50);
    for (const buffer of external) expect(buffer.offset % 16).toBe(0);
    expect(file.buffers.every((b) => b.dataStart === undefined)).toBe(true);
    // Data follows the flatbuffer in order, without overlap, up to the end of the file.
    const ordered = [...external].sort((a, b) => a.offset - b.offset);
    ordered.slice(1).forEach((b, i) => expect(b.offset).toBeGreaterThanOrEqual(ordered[i]!.offset + ordered[i]!.size));
    expect(ordered.at(-1)!.offset + ordered.at(-1)!.size).toBe(file.length);
    expectSameModel(model, readTflite(out));
  });

  it('reads a buffer stored 3 GiB into a (sparse) file without reading what lies before it', () => {
    const graph = new Graph('main');
    const x = graph.addInput('x', tensorType('float32', [4]));
    const c = graph.addConstant('c', Tensor.fromValues('float32', [4], [1, 2, 3, 4]));
    const add = graph.createNode({ op: 'tflite.ADD', inputs: [x, c], outputs: [{ name: 'y', type: tensorType('float32', [4]) }] });
    graph.setOutputs([add.output(0)]);
    const out = join(dir, 'far.tflite');
    writeTflite(new Model(graph), out, { externalBuffersAbove: 0 });
    const bytes = readFileSync(out);
    const fb = FbModel.getRootAsModel(new ByteBuffer(bytes));
    const buffer = [...Array(fb.buffersLength()).keys()].map((i) => fb.buffers(i)!).find((b) => Number(b.size()) === 16)!;
    const data = bytes.subarray(Number(buffer.offset()), Number(buffer.offset()) + 16);
    const far = 3 * 2 ** 30;
    const field = buffer.bb_pos + buffer.bb!.__offset(buffer.bb_pos, 6);
    bytes.writeBigUInt64LE(BigInt(far), field);
    writeFileSync(out, bytes);
    truncateSync(out, far + 16);
    const fd = openSync(out, 'r+');
    writeSync(fd, data, 0, 16, far);
    closeSync(fd);
    const started = performance.now();
    const model = readTflite(out);
    expect(model.graph.getValue('c')!.constant!.toNumbers()).toEqual([1, 2, 3, 4]);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('refuses canonical and foreign ops per node before writing anything', () => {
    const graph = new Graph('main');
    const x = graph.addInput('x', tensorType('float32', [1, 3, 8, 8]));
    const w = graph.addConstant('w', Tensor.fromValues('float32', [4, 3, 3, 3], new Float32Array(108)));
    const conv = graph.createNode({ op: 'onnx.Conv', name: 'conv1', inputs: [x, w], outputs: [tensorType('float32', [1, 4, 6, 6])] });
    const relu = graph.createNode({ op: 'onnx.Relu', name: 'relu1', inputs: [conv.output(0)], outputs: [tensorType('float32', [1, 4, 6, 6])] });
    const odd = graph.createNode({ op: 'tflite.CONV_2D', name: 'bad_attr', inputs: [x, w, null], outputs: [tensorType('float32', [1, 4, 6, 6])], attributes: { padding: attrs.string('HALF') } });
    graph.setOutputs([relu.output(0), odd.output(0)]);
    const out = join(dir, 'refused.tflite');
    const error = (() => {
      try {
        writeTflite(new Model(graph), out);
      } catch (e) {
        return e;
      }
    })();
    expect(ModelpassError.is(error)).toBe(true);
    const text = String(error);
    expect(text).toContain("node 'conv1' (onnx.Conv)");
    expect(text).toContain("node 'relu1' (onnx.Relu)");
    expect(text).toContain('run legalize-tflite first');
    expect(text).toContain("attribute 'padding' = \"HALF\" is not one of SAME, VALID");
    expect(existsSync(out)).toBe(false);
  });
});
