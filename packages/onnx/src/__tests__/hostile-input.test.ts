import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import protobuf from 'protobufjs/minimal.js';
import { describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { decodeOnnx, decodeTensorProto, readOnnx } from '@modelpass/onnx';
import { FLOAT, modelBytes, tempDir, tensorInfo } from './helpers.js';
import type { onnx as OnnxTypes } from '../generated/onnx-types.js';
import { onnx } from '../generated/onnx.js';

/** y = x + w, w float32[4] kept in external file `location`. */
function externalModel(location: string): Uint8Array {
  return modelBytes({
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'ext',
      node: [{ op_type: 'Add', name: 'add', input: ['x', 'w'], output: ['y'] }],
      initializer: [
        {
          name: 'w',
          data_type: FLOAT,
          dims: [4],
          data_location: 1,
          external_data: [
            { key: 'location', value: location },
            { key: 'offset', value: '0' },
            { key: 'length', value: '16' },
          ],
        },
      ],
      input: [tensorInfo('x', FLOAT, [4])],
      output: [tensorInfo('y', FLOAT, [4])],
    },
  });
}

/** The ModelpassError `body` throws (fails the test when it throws anything else or nothing). */
function errorOf(body: () => unknown): ModelpassError {
  try {
    body();
  } catch (error) {
    if (ModelpassError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a ModelpassError, nothing was thrown');
}

function graphModel(graph: OnnxTypes.GraphProto.$Properties): Uint8Array {
  return modelBytes({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph });
}

describe('external data through symbolic links', () => {
  it('refuses a data file that is a symlink to a file outside the model folder', () => {
    const root = tempDir('symlink');
    const secret = join(root, 'secret.bin');
    writeFileSync(secret, Buffer.alloc(16, 7));
    const folder = join(root, 'model');
    mkdirSync(folder);
    symlinkSync(secret, join(folder, 'weights.bin'));
    writeFileSync(join(folder, 'model.onnx'), externalModel('weights.bin'));
    const error = errorOf(() => readOnnx(join(folder, 'model.onnx')));
    expect(error.reason).toMatch(/escapes the model's folder through a symbolic link/);
    expect(error.diagnostics[0]!.actual).toContain('secret.bin');
    // decodeOnnx with a baseDir applies the same rule.
    expect(errorOf(() => decodeOnnx(readFileSync(join(folder, 'model.onnx')), { baseDir: folder })).reason).toMatch(/symbolic link/);
  });

  it('refuses /etc/passwd reached through a symlinked folder', () => {
    const folder = tempDir('symlink-dir');
    symlinkSync('/etc', join(folder, 'data'));
    writeFileSync(join(folder, 'model.onnx'), externalModel('data/passwd'));
    expect(errorOf(() => readOnnx(join(folder, 'model.onnx'))).reason).toMatch(/escapes the model's folder/);
  });

  it('accepts a symlink that stays inside the folder, and a model folder reached through a symlink', () => {
    const root = tempDir('symlink-inside');
    const folder = join(root, 'real');
    mkdirSync(join(folder, 'blobs'), { recursive: true });
    writeFileSync(join(folder, 'blobs', 'w.bin'), new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer));
    symlinkSync('blobs/w.bin', join(folder, 'weights.bin'));
    writeFileSync(join(folder, 'model.onnx'), externalModel('weights.bin'));
    symlinkSync(folder, join(root, 'alias'));
    for (const path of [join(folder, 'model.onnx'), join(root, 'alias', 'model.onnx')]) {
      const model = readOnnx(path);
      expect(model.graph.lookup('w')!.constant!.toNumbers()).toEqual([1, 2, 3, 4]);
    }
  });
});

describe('files that are not regular files', () => {
  it('says a missing model file does not exist (not the errno text)', () => {
    const missing = errorOf(() => readOnnx(join(tempDir('missing'), 'nope.onnx')));
    expect(missing.reason).toBe('ONNX file does not exist');
    expect(missing.location?.file).toMatch(/nope\.onnx$/);
  });

  it('refuses a FIFO as the model or as external data without blocking', () => {
    const folder = tempDir('fifo');
    expect(spawnSync('mkfifo', [join(folder, 'model.onnx'), join(folder, 'weights.bin')]).status).toBe(0);
    const started = Date.now();
    const asModel = errorOf(() => readOnnx(join(folder, 'model.onnx')));
    expect(asModel.reason).toMatch(/is a FIFO \(named pipe\), not a regular file/);
    writeFileSync(join(folder, 'ext.onnx'), externalModel('weights.bin'));
    const asData = errorOf(() => readOnnx(join(folder, 'ext.onnx')));
    expect(asData.reason).toMatch(/external data file 'weights.bin' of tensor 'w' is a FIFO \(named pipe\)/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses a directory, a character device and a socket', async () => {
    const folder = tempDir('special');
    mkdirSync(join(folder, 'dir.onnx'));
    expect(errorOf(() => readOnnx(join(folder, 'dir.onnx'))).reason).toMatch(/is a folder/);
    expect(errorOf(() => readOnnx('/dev/zero')).reason).toMatch(/is a character device/);
    const server = createServer();
    await new Promise<void>((done) => server.listen(join(folder, 'weights.bin'), done));
    try {
      writeFileSync(join(folder, 'ext.onnx'), externalModel('weights.bin'));
      expect(errorOf(() => readOnnx(join(folder, 'ext.onnx'))).reason).toMatch(/is a socket, not a regular file/);
    } finally {
      server.close();
    }
  });
});

describe('wire format details shared by readOnnx and decodeOnnx', () => {
  it('a negative (ten-byte) varint gives the same answer from both readers', () => {
    const folder = tempDir('varint');
    const bytes = graphModel({
      name: 'neg',
      node: [{ op_type: 'Identity', name: 'id', input: ['w'], output: ['y'] }],
      initializer: [{ name: 'w', data_type: FLOAT, dims: [-1], float_data: [] }],
      output: [tensorInfo('y', FLOAT, [1])],
    });
    writeFileSync(join(folder, 'neg.onnx'), bytes);
    const lazy = errorOf(() => readOnnx(join(folder, 'neg.onnx')));
    const inMemory = errorOf(() => decodeOnnx(bytes, { file: join(folder, 'neg.onnx') }));
    expect(lazy.reason).toBe("tensor 'w' has a negative dimension");
    expect(inMemory.reason).toBe(lazy.reason);
    // A negative model_version (a varint field of the envelope) reads the same both ways.
    const versioned = modelBytes({ ir_version: 8, model_version: -3, opset_import: [{ domain: '', version: 13 }], graph: { name: 'g' } });
    writeFileSync(join(folder, 'version.onnx'), versioned);
    expect(readOnnx(join(folder, 'version.onnx')).modelVersion).toBe(-3);
    expect(decodeOnnx(versioned).modelVersion).toBe(-3);
  });

  it('nesting deeper than the limit is named as such, and the limit can be raised', () => {
    let type: OnnxTypes.TypeProto.$Properties = { tensor_type: { elem_type: FLOAT } };
    for (let i = 0; i < 60; i++) type = { sequence_type: { elem_type: type } };
    // protobufjs' encoder has the same default limit: lift it to write the hostile file.
    const saved = protobuf.util.recursionLimit;
    protobuf.util.recursionLimit = 1000;
    const bytes = graphModel({ name: 'deep', input: [{ name: 'x', type }], output: [{ name: 'x', type }] });
    protobuf.util.recursionLimit = saved;
    const folder = tempDir('deep');
    writeFileSync(join(folder, 'deep.onnx'), bytes);
    for (const read of [() => decodeOnnx(bytes), () => readOnnx(join(folder, 'deep.onnx'))]) {
      const error = errorOf(read);
      expect(error.reason).toMatch(/nested deeper than 100 levels/);
      expect(error.diagnostics[0]!.hint).toMatch(/maxNestingDepth/);
    }
    const model = readOnnx(join(folder, 'deep.onnx'), { limits: { maxNestingDepth: 400 } });
    expect(model.graph.inputs[0]!.type.kind).toBe('sequence');
  });
});

describe('reader limits', () => {
  it('maxTensorBytes refuses a tensor by its dims before allocating it, naming the limit', () => {
    const bytes = graphModel({
      name: 'huge',
      node: [{ op_type: 'Identity', name: 'id', input: ['w'], output: ['y'] }],
      initializer: [{ name: 'w', data_type: FLOAT, dims: [2 ** 40], float_data: [] }],
      output: [tensorInfo('y', FLOAT, [2 ** 40])],
    });
    const error = errorOf(() => decodeOnnx(bytes));
    expect(error.reason).toMatch(/tensor 'w' \(float32\[1099511627776\], 4398046511104 bytes\) is over the ONNX reader's maxTensorBytes limit/);
    expect(error.diagnostics[0]!.hint).toMatch(/limits: \{ maxTensorBytes: /);
    const small = graphModel({
      name: 'small',
      node: [{ op_type: 'Identity', name: 'id', input: ['w'], output: ['y'] }],
      initializer: [{ name: 'w', data_type: FLOAT, dims: [8], float_data: [1, 2, 3, 4, 5, 6, 7, 8] }],
      output: [tensorInfo('y', FLOAT, [8])],
    });
    expect(errorOf(() => decodeOnnx(small, { limits: { maxTensorBytes: 16 } })).diagnostics[0]!.code).toBe('onnx/read-limit/maxTensorBytes');
    expect(decodeOnnx(small, { limits: { maxTensorBytes: 32 } }).graph.lookup('w')!.constant!.byteLength).toBe(32);
  });

  it('maxNodeCount counts nodes of every graph', () => {
    const node = Array.from({ length: 10 }, (_, i) => ({ op_type: 'Identity', name: `n${i}`, input: [i === 0 ? 'x' : `h${i - 1}`], output: [`h${i}`] }));
    const bytes = graphModel({ name: 'chain', node, input: [tensorInfo('x', FLOAT, [1])], output: [tensorInfo('h9', FLOAT, [1])] });
    const error = errorOf(() => decodeOnnx(bytes, { limits: { maxNodeCount: 9 } }));
    expect(error.reason).toMatch(/number of nodes .* is over the ONNX reader's maxNodeCount limit/);
    expect(error.diagnostics[0]!.expected).toBe('at most 9');
    expect(decodeOnnx(bytes, { limits: { maxNodeCount: 10 } }).graph.nodeCount).toBe(10);
    expect(errorOf(() => decodeOnnx(bytes, { limits: { maxNodeCount: 0 } })).reason).toBe("invalid reader limit 'maxNodeCount'");
  });
});

describe('text that is not UTF-8', () => {
  const invalid = new Uint8Array([0x61, 0xff, 0xfe, 0x62]);

  it('refuses a string tensor element that is not UTF-8, naming the element', () => {
    const bytes = graphModel({
      name: 'strings',
      node: [{ op_type: 'Identity', name: 'id', input: ['s'], output: ['y'] }],
      initializer: [{ name: 's', data_type: 8, dims: [2], string_data: [new TextEncoder().encode('ok'), invalid] }],
      output: [tensorInfo('y', 8, [2])],
    });
    const error = errorOf(() => decodeOnnx(bytes));
    expect(error.reason).toBe("string element 1 of tensor 's' is not valid UTF-8 (bytes 61 ff fe 62)");
  });

  it('refuses a string attribute and a node name that are not UTF-8', () => {
    const attribute = graphModel({
      name: 'attr',
      node: [{ op_type: 'Custom', domain: 'test', name: 'c', input: ['x'], output: ['y'], attribute: [{ name: 'label', type: 3, s: invalid }] }],
      input: [tensorInfo('x', FLOAT, [1])],
      output: [tensorInfo('y', FLOAT, [1])],
    });
    expect(errorOf(() => decodeOnnx(attribute)).reason).toBe("string attribute 'label' is not valid UTF-8 (bytes 61 ff fe 62)");
    // A node name is a protobuf `string`: splice the invalid bytes into an encoded name of the same length.
    const named = graphModel({
      name: 'names',
      node: [{ op_type: 'Identity', name: 'aXYb', input: ['x'], output: ['y'] }],
      input: [tensorInfo('x', FLOAT, [1])],
      output: [tensorInfo('y', FLOAT, [1])],
    });
    const at = Buffer.from(named).indexOf('aXYb');
    named.set(invalid, at);
    const folder = tempDir('utf8');
    writeFileSync(join(folder, 'names.onnx'), named);
    for (const read of [() => decodeOnnx(named), () => readOnnx(join(folder, 'names.onnx'))]) {
      const error = errorOf(read);
      expect(error.reason).toMatch(/is not valid UTF-8 \(bytes 61 ff fe 62\)/);
      expect(error.diagnostics[0]!.hint).toMatch(/does not replace bytes/);
    }
  });
});

describe('cyclic graphs', () => {
  it('refuses a cycle on import, naming its nodes in data-flow order', () => {
    const bytes = graphModel({
      name: 'loop',
      node: [
        { op_type: 'Relu', name: 'start', input: ['x'], output: ['a'] },
        { op_type: 'Add', name: 'first', input: ['a', 'c'], output: ['b'] },
        { op_type: 'Relu', name: 'second', input: ['b'], output: ['c'] },
      ],
      input: [tensorInfo('x', FLOAT, [1])],
      output: [tensorInfo('c', FLOAT, [1])],
    });
    const error = errorOf(() => decodeOnnx(bytes, { file: 'loop.onnx' }));
    expect(error.reason).toMatch(/^graph 'loop' has a cycle: '(first|second)' \(onnx\.(Add|Relu)\) → '(first|second)' \(onnx\.(Add|Relu)\) → '(first|second)'$/);
    expect(error.location?.file).toBe('loop.onnx');
    expect(error.diagnostics[0]!.code).toBe('onnx/cycle');
  });

  it('a cycle through a subgraph that reads an outer value is found too', () => {
    const body: OnnxTypes.GraphProto.$Properties = {
      name: 'then',
      node: [{ op_type: 'Identity', name: 'inner', input: ['later'], output: ['t'] }],
      output: [tensorInfo('t', FLOAT, [1])],
    };
    const bytes = graphModel({
      name: 'outer',
      node: [
        { op_type: 'If', name: 'branch', input: ['cond'], output: ['r'], attribute: [{ name: 'then_branch', type: 5, g: body }, { name: 'else_branch', type: 5, g: body }] },
        { op_type: 'Relu', name: 'after', input: ['r'], output: ['later'] },
      ],
      input: [tensorInfo('cond', 9, []), tensorInfo('x', FLOAT, [1])],
      output: [tensorInfo('later', FLOAT, [1])],
    });
    expect(errorOf(() => decodeOnnx(bytes)).reason).toMatch(/has a cycle: .*'branch' \(onnx\.If\)/);
  });

  it('a TensorProto data file (conformance .pb) with a name that is not UTF-8 is refused too', () => {
    const bytes = onnx.TensorProto.encode({ name: 'aXYb', data_type: FLOAT, dims: [1], float_data: [1] }).finish();
    bytes.set([0x61, 0xff, 0xfe, 0x62], Buffer.from(bytes).indexOf('aXYb'));
    expect(() => decodeTensorProto(bytes, { file: 'input_0.pb' })).toThrow(/not a valid TensorProto: .*is not valid UTF-8 \(bytes 61 ff fe 62\)/);
  });
});
