// Regression tests for the fuzzer's ONNX round-trip findings (tools/fuzz/findings/onnx):
// decode(encode(model)) must equal the model — output slots, node names and graph inputs included —
// and what is written must still pass ONNX's checker and run in ONNX Runtime.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ModelpassError, modelsEqual, type Graph, type Model } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx, readOnnx } from '@modelpass/onnx';
import { onnx } from '../generated/onnx.js';
import { decodeModelProto, FLOAT, modelBytes, tempDir, tensorInfo } from './helpers.js';

const findingsRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../tools/fuzz/findings');
const findings = join(findingsRoot, 'onnx');
const PYTHON = '/usr/bin/python3';

function roundTrip(model: Model): Model {
  return decodeOnnx(encodeOnnx(model), { file: 'round-trip.onnx' });
}

function expectExactRoundTrip(model: Model): void {
  const again = roundTrip(model);
  expect(modelsEqual(model, again, { locations: false })).toBeUndefined();
  expect(Buffer.from(encodeOnnx(again)).equals(Buffer.from(encodeOnnx(model)))).toBe(true);
}

function nodeNames(graph: Graph): string[] {
  return graph.nodeList().flatMap((node) => [
    node.name,
    ...[...node.attributes.values()].flatMap((attribute) => (attribute.kind === 'graph' ? nodeNames(attribute.value).map((name) => `  ${name}`) : [])),
  ]);
}

function checkModel(bytes: Uint8Array): void {
  const dir = tempDir('findings');
  const path = join(dir, 'model.onnx');
  writeFileSync(path, bytes);
  execFileSync(PYTHON, ['-c', 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', path]);
}

describe('saved fuzz inputs round-trip exactly', () => {
  it.each(['trailing-empty-node-output-dropped.onnx', 'subgraph-node-names-renamed.onnx', 'old-ir-initializer-not-an-input-becomes-input.onnx'])('%s', (file) => {
    expectExactRoundTrip(decodeOnnx(readFileSync(join(findings, file)), { file }));
  });
});

describe('trailing omitted node outputs', () => {
  const dropout = (outputs: string[]) =>
    modelBytes({
      ir_version: 8,
      opset_import: [{ domain: '', version: 13 }],
      graph: {
        name: 'dropout',
        node: [{ op_type: 'Dropout', name: 'drop', input: ['x'], output: outputs }],
        input: [tensorInfo('x', FLOAT, [2, 3])],
        output: [tensorInfo('y', FLOAT, [2, 3])],
      },
    });

  it('keeps a trailing empty output name, and the written model passes the checker and runs in ORT', async () => {
    const model = decodeOnnx(dropout(['y', '']));
    expect(model.graph.nodeList()[0]!.outputs.map((value) => value?.name ?? null)).toEqual(['y', null]);
    const written = encodeOnnx(model);
    expect(decodeModelProto(written).graph!.node![0]!.output).toEqual(['y', '']);
    expectExactRoundTrip(model);
    checkModel(written);
    const session = await ort.InferenceSession.create(written, { logSeverityLevel: 3 });
    const x = new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    const { y } = await session.run({ x });
    expect(Array.from(y!.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('writes no output slot that was not there', () => {
    expect(decodeModelProto(encodeOnnx(decodeOnnx(dropout(['y'])))).graph!.node![0]!.output).toEqual(['y']);
  });
});

describe('names of unnamed nodes', () => {
  // Unnamed Identity nodes in the main graph and in both branches of an If, beside named nodes that
  // take the names a counter would hand out ('Identity_1').
  const bytes = modelBytes({
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'names',
      node: [
        { op_type: 'Identity', input: ['x'], output: ['a'] },
        { op_type: 'Identity', name: 'Identity_1', input: ['a'], output: ['b'] },
        { op_type: 'Identity', input: ['b'], output: ['c'] },
        {
          op_type: 'If',
          input: ['cond'],
          output: ['y'],
          attribute: ['then_branch', 'else_branch'].map((name) => ({
            name,
            type: 5,
            g: {
              name,
              node: [
                { op_type: 'Identity', input: ['c'], output: [`${name}_0`] },
                { op_type: 'Identity', input: [`${name}_0`], output: [`${name}_1`] },
              ],
              output: [tensorInfo(`${name}_1`, FLOAT, [2])],
            },
          })),
        },
      ],
      input: [tensorInfo('x', FLOAT, [2]), { name: 'cond', type: { tensor_type: { elem_type: 9, shape: { dim: [] } } } }],
      output: [tensorInfo('y', FLOAT, [2])],
    },
  });

  it('are the same after every round trip, depend only on their own graph, and are never written', () => {
    const model = decodeOnnx(bytes);
    const names = nodeNames(model.graph);
    expect(names).toEqual(['Identity', 'Identity_1', 'Identity_2', 'If', '  Identity', '  Identity_1', '  Identity', '  Identity_1']);
    expectExactRoundTrip(model);
    expect(nodeNames(roundTrip(roundTrip(model)).graph)).toEqual(names);
    const written = decodeModelProto(encodeOnnx(model)).graph!;
    expect(written.node!.map((node) => node.name)).toEqual(['', 'Identity_1', '', '']);
  });
});

describe('op_type with a dot', () => {
  it("is refused instead of coming back split at the dot (op '../../etc/passwd' returned as '/etc/passwd' in domain '../.')", () => {
    const bytes = modelBytes({
      ir_version: 8,
      opset_import: [{ domain: '', version: 13 }],
      graph: {
        name: 'dots',
        node: [{ op_type: '../../etc/passwd', input: ['x'], output: ['y'] }],
        input: [tensorInfo('x', FLOAT, [2])],
        output: [tensorInfo('y', FLOAT, [2])],
      },
    });
    expect(() => decodeOnnx(bytes, { file: 'dots.onnx' })).toThrow("node op_type '../../etc/passwd' contains '.', which modelpass cannot keep apart from the domain");
  });
});

describe('initializers of IR 1-3 models (IR.md: before IR 4 every initializer is a graph input)', () => {
  const oldModel = (irVersion: number) =>
    modelBytes({
      ir_version: irVersion,
      opset_import: [{ domain: '', version: 7 }],
      graph: {
        name: 'old',
        node: [{ op_type: 'Add', input: ['x', 'w'], output: ['y'] }],
        initializer: [{ name: 'w', data_type: FLOAT, dims: [2], float_data: [10, 20] }],
        input: [tensorInfo('x', FLOAT, [2])],
        output: [tensorInfo('y', FLOAT, [2])],
      },
    });

  it('reads an initializer the IR 3 input list leaves out as an input with a default, and writes a valid IR 3 model', async () => {
    const model = decodeOnnx(oldModel(3));
    expect(model.graph.inputs.map((value) => [value.name, value.constant !== undefined])).toEqual([
      ['x', false],
      ['w', true],
    ]);
    expectExactRoundTrip(model);
    const written = encodeOnnx(model);
    expect(decodeModelProto(written).graph!.input!.map((info) => info.name)).toEqual(['x', 'w']);
    checkModel(written);
    const session = await ort.InferenceSession.create(written, { logSeverityLevel: 3 });
    const { y } = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2]), [2]) });
    expect(Array.from(y!.data as Float32Array)).toEqual([11, 22]);
  });

  it('leaves IR 4+ and an unset ir_version (0) alone: the initializer stays a constant', () => {
    for (const irVersion of [0, 4, 8]) {
      const model = decodeOnnx(oldModel(irVersion));
      expect(model.graph.inputs.map((value) => value.name)).toEqual(['x']);
      expectExactRoundTrip(model);
      expect(decodeModelProto(encodeOnnx(model)).graph!.input!.map((info) => info.name)).toEqual(['x']);
    }
  });
});

describe('readOnnx reads length prefixes as decodeOnnx does (fuzz finding onnx-file/readonnx-accepts-invalid-length)', () => {
  /** 'accepted', or 'rejected' with a ModelpassError (anything else fails the test). */
  function outcome(read: () => Model): string {
    try {
      read();
      return 'accepted';
    } catch (error) {
      expect(ModelpassError.is(error), String(error)).toBe(true);
      return 'rejected';
    }
  }

  function agree(bytes: Uint8Array, label: string): string {
    const path = join(tempDir('length'), `${label}.onnx`);
    writeFileSync(path, bytes);
    const decoded = outcome(() => decodeOnnx(bytes, { file: path }));
    for (const lazyThreshold of [1, 1 << 20]) expect(outcome(() => readOnnx(path, { lazyThreshold })), `${label}, lazyThreshold ${lazyThreshold}`).toBe(decoded);
    return decoded;
  }

  it('refuses the saved file, like decodeOnnx (and onnx.load)', () => {
    expect(agree(readFileSync(join(findingsRoot, 'onnx-file', 'readonnx-accepts-invalid-length.onnx')), 'saved')).toBe('rejected');
  });

  it('agrees on over-long and out-of-range length prefixes of the graph field', () => {
    const envelope = onnx.ModelProto.encode({ ir_version: 8, opset_import: [{ domain: '', version: 13 }] }).finish();
    const graph = onnx.GraphProto.encode({
      name: 'g',
      node: [{ op_type: 'Relu', input: ['x'], output: ['y'] }],
      input: [tensorInfo('x', FLOAT, [2])],
      output: [tensorInfo('y', FLOAT, [2])],
    }).finish();
    const n = graph.byteLength;
    expect(n).toBeLessThan(128);
    const withPrefix = (prefix: number[]) => new Uint8Array(Buffer.concat([envelope, Uint8Array.of(0x3a, ...prefix), graph]));
    expect(agree(withPrefix([n]), 'plain')).toBe('accepted');
    expect(agree(withPrefix([n | 0x80, 0x80, 0x80, 0x80, 0x00]), 'five-bytes')).toBe('accepted');
    expect(agree(withPrefix([n | 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), 'six-bytes')).toBe('rejected');
    expect(agree(withPrefix([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), 'two-to-the-35')).toBe('rejected');
    expect(agree(withPrefix([n | 0x80, 0x80, 0x80, 0x80, 0x10]), 'two-to-the-32-plus')).toBe('rejected');
  });
});

describe('a tensor type with a shape but no element type (onnx.proto: elem_type MUST be present)', () => {
  it('is refused naming the value, instead of importing as unknown and dropping the shape and its denotations', () => {
    const file = join(findings, 'dim-denotation-on-untyped-input-dropped.onnx');
    let error: unknown;
    try {
      readOnnx(file);
    } catch (caught) {
      error = caught;
    }
    expect(ModelpassError.is(error)).toBe(true);
    expect((error as ModelpassError).message).toContain("graph input 'x': tensor type has a shape but no element type");
    expect((error as ModelpassError).message).toContain(file);
  });

  it('still reads a tensor type with neither element type nor shape as unknown (nothing to lose)', () => {
    const bytes = modelBytes({
      ir_version: 8,
      opset_import: [{ domain: '', version: 17 }],
      graph: {
        name: 'g',
        node: [{ op_type: 'Relu', input: ['x'], output: ['y'] }],
        input: [tensorInfo('x', FLOAT, [2])],
        output: [tensorInfo('y', FLOAT, [2])],
        value_info: [{ name: 'y', type: { tensor_type: {} } }],
      },
    });
    expect(decodeOnnx(bytes).graph.outputs[0]!.type).toEqual({ kind: 'tensor', dtype: 'float32', shape: [2] });
  });
});

describe('a type that is only a denotation', () => {
  // Fuzz seed 1801 case 101683: input x declared as TypeProto { denotation: 'ai.onnx' } with no value case. It
  // imports as an unknown type with its denotation recorded; the writer wrote no type at all, so it was lost.
  it('keeps its denotation through encode → decode (saved fuzz input)', () => {
    const file = 'type-denotation-without-type-value-dropped.onnx';
    const model = decodeOnnx(readFileSync(join(findings, file)), { file });
    expectExactRoundTrip(model);
    const x = decodeModelProto(encodeOnnx(model)).graph!.input!.find((v) => v.name === 'x')!;
    expect(x.type?.denotation).toBe('ai.onnx');
    expect(x.type?.tensor_type ?? undefined).toBeUndefined();
  });
});
