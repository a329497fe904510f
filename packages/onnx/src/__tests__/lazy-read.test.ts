// readOnnx scans the file and leaves initializer raw_data in it as lazy ranges; decodeOnnx decodes
// bytes in memory with protobufjs. Both must give the same IR, and lazy ranges must survive the
// file being replaced (writeOnnx onto the model's own path) without wrong bytes or a descriptor leak.
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { FileRangeStorage, modelsEqual, ModelpassError, SourceRangeStorage, sourceDescriptorsOpen, type Model, type Tensor } from '@modelpass/ir';
import { decodeOnnx, readOnnx, writeOnnx } from '@modelpass/onnx';
import { onnx } from '../generated/onnx.js';
import { varint } from '../export/wire.js';
import { FLOAT, tempDir, tensorInfo, weightsModel } from './helpers.js';

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

const CONFORMANCE = '/usr/share/libonnx-testdata/data';
const SUITES = ['node', 'pytorch-converted', 'pytorch-operator', 'simple'];
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../../fixtures/models');

function corpusPaths(): string[] {
  if (!existsSync(CONFORMANCE)) throw new Error(`ONNX conformance data missing at ${CONFORMANCE}: run tools/setup.sh`);
  const paths: string[] = [];
  for (const suite of SUITES) {
    for (const name of readdirSync(join(CONFORMANCE, suite)).sort()) {
      const path = join(CONFORMANCE, suite, name, 'model.onnx');
      if (existsSync(path)) paths.push(path);
    }
  }
  for (const name of readdirSync(FIXTURES).sort()) {
    const path = join(FIXTURES, name, 'model.onnx');
    if (existsSync(path)) paths.push(path);
  }
  return paths;
}

function lazyTensors(model: Model): Tensor[] {
  return model.graph.constants.flatMap((value) => (value.constant?.storage?.kind === 'file-range' ? [value.constant] : []));
}

function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('readOnnx (lazy) and decodeOnnx (in memory) give the same IR', () => {
  const paths = corpusPaths();

  test(`over ${paths.length} conformance models and project fixtures`, () => {
    expect(paths.length).toBeGreaterThanOrEqual(1072);
    const differences: string[] = [];
    let lazy = 0;
    for (const path of paths) {
      const inMemory = decodeOnnx(readFileSync(path), { file: path });
      for (const lazyThreshold of [1, undefined]) {
        const read = readOnnx(path, lazyThreshold === undefined ? {} : { lazyThreshold });
        if (lazyThreshold === 1) lazy += lazyTensors(read).length;
        const difference = modelsEqual(inMemory, read);
        if (difference) differences.push(`${path} (lazyThreshold ${lazyThreshold ?? 'default'}): ${difference}`);
      }
    }
    console.log(`lazy read: ${paths.length} models, ${lazy} initializers read as file ranges, ${differences.length} differences`);
    expect(differences).toEqual([]);
    // The lazy path was taken: the corpus's initializers with raw_data came back as file ranges.
    expect(lazy).toBeGreaterThan(100);
  });

  test('writing a lazily read model gives the same bytes as writing the decoded one', () => {
    const dir = tempDir('lazy-write');
    for (const path of [...paths.filter((p) => /pytorch-converted/.test(p)).slice(0, 20), ...paths.filter((p) => p.startsWith(FIXTURES))]) {
      const fromMemory = join(dir, 'memory.onnx');
      const fromLazy = join(dir, 'lazy.onnx');
      writeOnnx(decodeOnnx(readFileSync(path), { file: path }), fromMemory);
      writeOnnx(readOnnx(path, { lazyThreshold: 1 }), fromLazy);
      expect(Buffer.compare(readFileSync(fromLazy), readFileSync(fromMemory)), path).toBe(0);
    }
  });
});

describe('lazy ranges and the files they read', () => {
  test('writeOnnx onto the model’s own path: the model keeps reading the bytes it was read with', () => {
    const dir = tempDir('in-place');
    const path = join(dir, 'model.onnx');
    const original = weightsModel(3, 64, 1);
    writeFileSync(path, original);
    const expected = decodeOnnx(original, { file: path });
    const model = readOnnx(path);
    expect(lazyTensors(model).length).toBe(3);

    // Same path, weights now in the data file next to it, then back inside the .onnx file: offsets
    // move each time, yet the model in memory still reads what it was read from.
    writeOnnx(model, path, { externalData: 'always' });
    expect(modelsEqual(expected, model)).toBeUndefined();
    expect(modelsEqual(expected, readOnnx(path))).toBeUndefined();
    writeOnnx(model, path, { externalData: 'never' });
    expect(modelsEqual(expected, model)).toBeUndefined();
    const again = readOnnx(path);
    expect(modelsEqual(expected, again)).toBeUndefined();

    // The re-read model (weights in the .onnx file) written onto its own path with its data file name.
    writeOnnx(again, path, { externalData: 'always' });
    writeOnnx(again, path, { externalData: 'always', externalDataFile: 'model.onnx.data' });
    expect(modelsEqual(expected, again)).toBeUndefined();
    expect(modelsEqual(expected, readOnnx(path))).toBeUndefined();
  });

  test('a lazy source rewritten in place by someone else is an error, not wrong bytes', () => {
    const dir = tempDir('rewritten');
    const path = join(dir, 'model.onnx');
    writeFileSync(path, weightsModel(1, 64, 1));
    const model = readOnnx(path);
    const weight = model.graph.getValue('w0')!.constant!;
    // Same size, other bytes, same inode (the way many tools save).
    const other = weightsModel(1, 64, 2);
    const later = new Date(Date.now() + 5000);
    writeFileSync(path, other);
    utimesSync(path, later, later);
    expect(() => weight.bytes()).toThrow(ModelpassError);
    expect(() => weight.bytes()).toThrow(/was changed after the model was read/);
  });

  test('writeOnnx reads each source through one descriptor for the whole write, and a source changed during it fails the write', () => {
    const dir = tempDir('batched');
    const path = join(dir, 'model.onnx');
    writeFileSync(path, weightsModel(4, 1024, 1)); // four 1 MiB weights: onProgress runs between them
    const model = readOnnx(path);
    const source = (lazyTensors(model)[0]!.storage as SourceRangeStorage).source;
    source.close(); // as past the descriptor limit: each read outside a batch opens the file
    const before = sourceDescriptorsOpen();
    const seen: number[] = [];
    writeOnnx(model, join(dir, 'copy.onnx'), { onProgress: () => seen.push(sourceDescriptorsOpen()) });
    expect(seen.slice(0, -1)).toContain(before + 1); // the batch's one descriptor, open while the weights are copied
    expect(sourceDescriptorsOpen()).toBe(before);
    expect(modelsEqual(decodeOnnx(readFileSync(path), { file: join(dir, 'copy.onnx') }), readOnnx(join(dir, 'copy.onnx')))).toBeUndefined();

    const held = sourceDescriptorsOpen(); // now with the descriptor of the copy just read

    const later = new Date(Date.now() + 5000);
    const rewrite = () => {
      writeFileSync(path, weightsModel(4, 1024, 2)); // same size, same inode, other bytes
      utimesSync(path, later, later);
    };
    let rewritten = false;
    expect(() =>
      writeOnnx(model, join(dir, 'changed.onnx'), {
        onProgress: () => {
          if (!rewritten) rewrite();
          rewritten = true;
        },
      }),
    ).toThrow(/was changed after the model was read/);
    expect(rewritten).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['copy.onnx', 'model.onnx']);
    expect(sourceDescriptorsOpen()).toBe(held);
  });

  test('hundreds of lazily read models do not hold hundreds of descriptors, and stay replaceable', () => {
    const dir = tempDir('many');
    const before = openDescriptors();
    const models: { path: string; model: Model; expected: Model }[] = [];
    for (let i = 0; i < 300; i++) {
      const path = join(dir, `m${i}.onnx`);
      const bytes = weightsModel(2, 4, i);
      writeFileSync(path, bytes);
      models.push({ path, model: readOnnx(path), expected: decodeOnnx(bytes, { file: path }) });
    }
    expect(openDescriptors() - before).toBeLessThanOrEqual(64);
    // The last ones read their file through the path; replacing it through writeOnnx keeps them right.
    for (const { path, model, expected } of models.slice(-3)) {
      expect(lazyTensors(model).length).toBe(2);
      expect((lazyTensors(model)[0]!.storage as FileRangeStorage).path).toBe(path);
      writeOnnx(model, path, { externalData: 'always', externalDataThreshold: 16 });
      expect(modelsEqual(expected, model)).toBeUndefined();
      expect(modelsEqual(expected, readOnnx(path))).toBeUndefined();
    }
    for (const { model, expected } of models.slice(0, 5)) expect(modelsEqual(expected, model)).toBeUndefined();
  });

  test('a file that ends inside a weight is a ModelpassError naming the file, before any tensor is read', () => {
    const dir = tempDir('truncated');
    const bytes = weightsModel(2, 64, 3);
    for (const cut of [bytes.length - 1, Math.floor(bytes.length / 2), 40, 3]) {
      const path = join(dir, `cut-${cut}.onnx`);
      writeFileSync(path, bytes.subarray(0, cut));
      let caught: unknown;
      try {
        readOnnx(path);
      } catch (error) {
        caught = error;
      }
      expect(ModelpassError.is(caught), `cut at ${cut}`).toBe(true);
      expect((caught as ModelpassError).location?.file).toBe(path);
    }
  });
});

describe('wire-format corners the scanner must read as protobufjs does', () => {
  const key = (field: number, wireType: number) => varint(field * 8 + wireType);
  const lengthDelimited = (field: number, payload: Uint8Array) => concat(key(field, 2), varint(payload.byteLength), payload);
  // Unknown fields of every wire type, a group holding a nested field included.
  const unknownFields = () =>
    concat(key(90, 0), varint(300), key(91, 1), new Uint8Array(8).fill(7), key(92, 5), new Uint8Array(4).fill(9), key(93, 3), key(1, 0), varint(5), key(93, 4), lengthDelimited(94, Uint8Array.of(1, 2, 3)));
  const floats = (n: number, seed: number) => new Uint8Array(new Float32Array(n).map((_, i) => i * 0.5 + seed).buffer);

  function cornerModel(): Uint8Array {
    const tensor = (name: string, rawFields: Uint8Array[]) =>
      lengthDelimited(5, concat(onnx.TensorProto.encode({ name, data_type: FLOAT, dims: [64] }).finish(), unknownFields(), ...rawFields.map((raw) => lengthDelimited(9, raw))));
    const graphRest = onnx.GraphProto.encode({
      name: 'corners',
      node: [{ op_type: 'Add', input: ['a', 'b'], output: ['s'] }, { op_type: 'Add', input: ['s', 'c'], output: ['y'] }],
      input: [tensorInfo('x', FLOAT, [64])],
      output: [tensorInfo('y', FLOAT, [64])],
    }).finish();
    const graph = concat(
      tensor('a', [floats(64, 1)]),
      graphRest,
      unknownFields(),
      tensor('b', [floats(8, 2), floats(64, 3)]), // a later raw_data replaces an earlier one
      tensor('c', [floats(64, 4), floats(64, 5)]),
    );
    // An earlier occurrence of the graph field, merged with the later one: its initializer and doc
    // string are kept, its name is replaced.
    const earlier = concat(onnx.GraphProto.encode({ name: 'replaced', doc_string: 'from the first occurrence' }).finish(), tensor('d', [floats(64, 6)]));
    const envelope = onnx.ModelProto.encode({ ir_version: 8, opset_import: [{ domain: '', version: 13 }] }).finish();
    // Known field numbers with the wrong wire type are unknown fields: graph as a varint, an
    // initializer as fixed32.
    const misTyped = concat(key(7, 0), varint(12), key(5, 5), new Uint8Array(4));
    return concat(lengthDelimited(7, concat(earlier, key(5, 5), new Uint8Array(4))), unknownFields(), envelope, misTyped, lengthDelimited(7, graph), unknownFields());
  }

  test('unknown fields, groups, mis-typed fields, repeated raw_data and a repeated (merged) graph field', () => {
    const dir = tempDir('corners');
    const path = join(dir, 'corners.onnx');
    const bytes = cornerModel();
    writeFileSync(path, bytes);
    const expected = decodeOnnx(bytes, { file: path });
    expect(expected.graph.name).toBe('corners');
    expect(expected.graph.docString).toBe('from the first occurrence');
    expect(expected.graph.constants.map((value) => value.name)).toEqual(['d', 'a', 'b', 'c']);
    expect(Array.from(expected.graph.getValue('b')!.constant!.data() as Float32Array).slice(0, 2)).toEqual([3, 3.5]);
    for (const lazyThreshold of [1, 100, 1024]) {
      expect(modelsEqual(expected, readOnnx(path, { lazyThreshold })), `lazyThreshold ${lazyThreshold}`).toBeUndefined();
    }
    expect(lazyTensors(readOnnx(path, { lazyThreshold: 1 })).length).toBe(4);
  });
});
