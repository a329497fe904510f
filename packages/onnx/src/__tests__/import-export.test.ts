import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { FileRangeStorage, ModelpassError, Tensor, type DType } from '@modelpass/ir';
import { decodeOnnx, decodeTensorProto, encodeOnnx, encodeTensorProto, readOnnx, writeOnnx } from '@modelpass/onnx';
import { addModel, decodeModelProto, FLOAT, modelBytes, tempDir, tensorInfo } from './helpers.js';

const PYTHON = '/usr/bin/python3';

describe('tensors in every storage form', () => {
  const cases: { dtype: DType; code: number; proto: Record<string, unknown>; expected: number[] | bigint[] | string[] }[] = [
    { dtype: 'float32', code: 1, proto: { float_data: [1.5, -2, NaN] }, expected: [1.5, -2, NaN] },
    { dtype: 'uint8', code: 2, proto: { int32_data: [0, 255, 7] }, expected: [0, 255, 7] },
    { dtype: 'int8', code: 3, proto: { int32_data: [-128, 127, -1] }, expected: [-128, 127, -1] },
    { dtype: 'uint16', code: 4, proto: { int32_data: [65535, 1, 2] }, expected: [65535, 1, 2] },
    { dtype: 'int16', code: 5, proto: { int32_data: [-32768, 5, 6] }, expected: [-32768, 5, 6] },
    { dtype: 'int32', code: 6, proto: { int32_data: [-2147483648, 2147483647, 0] }, expected: [-2147483648, 2147483647, 0] },
    { dtype: 'int64', code: 7, proto: { int64_data: ['-9223372036854775808', '9223372036854775807', '9007199254740993'] }, expected: [-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n] },
    { dtype: 'bool', code: 9, proto: { int32_data: [1, 0, 1] }, expected: [1, 0, 1] },
    { dtype: 'float16', code: 10, proto: { int32_data: [0x3c00, 0xc000, 0x7e00] }, expected: [1, -2, NaN] },
    { dtype: 'float64', code: 11, proto: { double_data: [0.1, -1e300, 5] }, expected: [0.1, -1e300, 5] },
    { dtype: 'uint32', code: 12, proto: { uint64_data: [4294967295, 1, 2] }, expected: [4294967295, 1, 2] },
    { dtype: 'uint64', code: 13, proto: { uint64_data: ['18446744073709551615', 1, 2] }, expected: [2n ** 64n - 1n, 1n, 2n] },
    { dtype: 'bfloat16', code: 16, proto: { int32_data: [0x3f80, 0xc000, 0x4040] }, expected: [1, -2, 3] },
    { dtype: 'float8e4m3fn', code: 17, proto: { int32_data: [0x38, 0xc0, 0x40] }, expected: [1, -2, 2] },
  ];

  for (const { dtype, code, proto, expected } of cases) {
    test(`${dtype} from its typed field and back through raw_data`, async () => {
      const { onnx } = await import('../generated/onnx.js');
      const typed = proto as { uint64_data?: unknown[]; int64_data?: unknown[] };
      const Long = (await import('long')).default;
      const fix = (values: unknown[] | undefined, unsigned: boolean) =>
        values?.map((v) => (typeof v === 'string' ? Long.fromString(v, unsigned) : v));
      const bytes = onnx.TensorProto.encode({
        name: 't',
        data_type: code,
        dims: [3],
        ...proto,
        ...(typed.int64_data ? { int64_data: fix(typed.int64_data, false) } : {}),
        ...(typed.uint64_data ? { uint64_data: fix(typed.uint64_data, true) } : {}),
      } as never).finish();
      const tensor = decodeTensorProto(bytes);
      expect(tensor.dtype).toBe(dtype);
      const values = Array.from(tensor.data() as ArrayLike<number | bigint>);
      values.forEach((v, i) => (typeof v === 'number' ? expect(Object.is(v, expected[i]) || v === expected[i]).toBe(true) : expect(v).toBe(expected[i])));
      const again = decodeTensorProto(encodeTensorProto(tensor, 't'));
      expect(again.equals(tensor)).toBe(true);
    });
  }

  test('int4 and uint4 pack two elements per byte, low nibble first', async () => {
    const { onnx } = await import('../generated/onnx.js');
    const int4 = decodeTensorProto(onnx.TensorProto.encode({ data_type: 22, dims: [3], int32_data: [0x7f, 0x08] }).finish());
    expect(Array.from(int4.data() as Int8Array)).toEqual([-1, 7, -8]);
    const uint4 = decodeTensorProto(onnx.TensorProto.encode({ data_type: 21, dims: [3], raw_data: Uint8Array.of(0x21, 0x0f) }).finish());
    expect(Array.from(uint4.data() as Uint8Array)).toEqual([1, 2, 15]);
    expect(decodeTensorProto(encodeTensorProto(int4)).equals(int4)).toBe(true);
  });

  test('strings and a size mismatch', async () => {
    const { onnx } = await import('../generated/onnx.js');
    const text = new TextEncoder();
    const strings = decodeTensorProto(onnx.TensorProto.encode({ data_type: 8, dims: [2], string_data: [text.encode('héllo'), text.encode('')] }).finish());
    expect(strings.strings).toEqual(['héllo', '']);
    expect(() => decodeTensorProto(onnx.TensorProto.encode({ name: 'bad', data_type: 1, dims: [4], raw_data: new Uint8Array(12) }).finish())).toThrow(
      /raw_data of tensor 'bad' has the wrong size/,
    );
  });
});

describe('models', () => {
  test('import → export keeps structure, names, types, metadata and doc strings', () => {
    const proto = addModel();
    proto.doc_string = 'model doc';
    proto.metadata_props = [{ key: 'author', value: 'me' }];
    proto.graph!.node![0]!.doc_string = 'node doc';
    proto.graph!.node!.push({ op_type: 'Relu', input: ['y'], output: ['z'], name: 'relu', domain: 'ai.onnx', metadata_props: [{ key: 'k', value: 'v' }] });
    proto.graph!.output = [tensorInfo('z', FLOAT, ['N', 3])];
    proto.opset_import!.push({ domain: 'com.microsoft', version: 1 });
    const model = decodeOnnx(modelBytes(proto), { file: 'mem.onnx' });
    expect(model.opset('onnx')).toBe(13);
    expect(model.opset('com.microsoft')).toBe(1);
    const [add, relu] = model.graph.nodeList();
    expect(add!.op).toBe('onnx.Add');
    expect(add!.loc.file).toBe('mem.onnx');
    expect(relu!.op).toBe('onnx.Relu');
    expect(relu!.metadata.get('k')).toBe('v');
    expect(model.graph.inputs[0]!.type).toEqual({ kind: 'tensor', dtype: 'float32', shape: ['N', 3] });

    const back = decodeModelProto(encodeOnnx(model));
    expect(back.graph!.node![0]!.name ?? '').toBe(''); // unnamed stays unnamed
    expect(back.graph!.node![0]!.doc_string).toBe('node doc');
    expect(back.graph!.node![1]!.name).toBe('relu');
    expect(back.graph!.node![1]!.domain ?? '').toBe('');
    expect(back.graph!.node![1]!.metadata_props).toEqual([{ key: 'k', value: 'v' }]);
    expect(back.doc_string).toBe('model doc');
    expect(back.metadata_props!.map((e) => [e.key, e.value])).toEqual([['author', 'me']]);
    expect(back.opset_import!.map((o) => [o.domain, Number(o.version)])).toEqual([['', 13], ['com.microsoft', 1]]);
    expect(back.graph!.initializer![0]!.raw_data!.byteLength).toBe(24);
  });

  test('int64 attributes beyond 2^53 survive a round trip exactly', () => {
    const proto = addModel();
    const Long = require_long();
    proto.graph!.node!.push({
      op_type: 'Custom',
      domain: 'test.domain',
      input: ['y'],
      output: ['c'],
      attribute: [
        { name: 'big', type: 2, i: Long.MAX_VALUE },
        { name: 'odd', type: 2, i: Long.fromString('9007199254740993') },
        { name: 'list', type: 7, ints: [Long.MIN_VALUE, Long.fromString('9007199254740995'), 3] },
      ],
    });
    const model = decodeOnnx(modelBytes(proto));
    const back = decodeModelProto(encodeOnnx(model));
    const attrs = back.graph!.node![1]!.attribute!;
    expect(attrs[0]!.i!.toString()).toBe('9223372036854775807');
    expect(attrs[1]!.i!.toString()).toBe('9007199254740993');
    expect(attrs[2]!.ints!.map(String)).toEqual(['-9223372036854775808', '9007199254740995', '3']);
    expect(back.graph!.node![1]!.domain).toBe('test.domain');
  });

  test('subgraphs read outer values by scope; shadowed names are renamed, not confused', () => {
    const proto = addModel();
    const branch = (name: string, op: string) => ({
      name,
      node: [{ op_type: op, input: ['y', 'w'], output: ['y2'] }],
      // 'w' of the outer graph is visible; 'y2' is local to each branch.
      output: [tensorInfo('y2', FLOAT, ['N', 3])],
    });
    proto.graph!.input!.push(tensorInfo('cond', 9, []));
    proto.graph!.node!.push({
      op_type: 'If',
      input: ['cond'],
      output: ['out'],
      name: 'if',
      attribute: [
        { name: 'then_branch', type: 5, g: branch('then', 'Add') },
        { name: 'else_branch', type: 5, g: branch('else', 'Sub') },
      ],
    });
    proto.graph!.output = [tensorInfo('out', FLOAT, ['N', 3])];
    const model = decodeOnnx(modelBytes(proto));
    const ifNode = model.graph.nodeList()[1]!;
    const thenGraph = ifNode.attr('then_branch', 'graph');
    const inner = thenGraph.nodeList()[0]!;
    expect(inner.inputs[0]).toBe(model.graph.getValue('y'));
    expect(inner.inputs[1]).toBe(model.graph.getValue('w'));
    const back = decodeModelProto(encodeOnnx(model));
    expect(back.graph!.node![1]!.attribute![0]!.g!.node![0]!.input).toEqual(['y', 'w']);

    const missing = addModel();
    missing.graph!.node!.push({ op_type: 'If', input: ['x'], output: ['o'], name: 'bad_if', attribute: [{ name: 'then_branch', type: 5, g: { node: [{ op_type: 'Neg', input: ['nowhere'], output: ['q'] }], output: [{ name: 'q' }] } }] });
    expect(() => decodeOnnx(modelBytes(missing), { file: 'm.onnx' })).toThrow(/input 'nowhere' of node 'Neg' is not defined/);
  });

  test('model-local functions with attribute references', () => {
    const proto = addModel();
    proto.opset_import!.push({ domain: 'local', version: 1 });
    proto.functions = [
      {
        name: 'Scale',
        domain: 'local',
        input: ['a'],
        output: ['b'],
        attribute: ['alpha'],
        opset_import: [{ domain: '', version: 13 }],
        node: [{ op_type: 'LeakyRelu', input: ['a'], output: ['b'], attribute: [{ name: 'alpha', type: 1, ref_attr_name: 'alpha' }] }],
      },
    ];
    proto.graph!.node!.push({ op_type: 'Scale', domain: 'local', input: ['y'], output: ['s'], attribute: [{ name: 'alpha', type: 1, f: 0.5 }] });
    proto.graph!.output = [tensorInfo('s', FLOAT, ['N', 3])];
    const model = decodeOnnx(modelBytes(proto));
    const fn = model.findFunction('local', 'Scale')!;
    expect(fn.body.nodeList()[0]!.getAttribute('alpha')).toEqual({ kind: 'ref', refKind: 'float', refName: 'alpha' });
    expect(model.graph.nodeList()[1]!.op).toBe('local.Scale');
    const back = decodeModelProto(encodeOnnx(model));
    expect(back.functions![0]!.node![0]!.attribute![0]!.ref_attr_name).toBe('alpha');
    expect(back.functions![0]!.attribute).toEqual(['alpha']);
  });

  test('IR 3: graph inputs that are also initializers stay both', () => {
    const proto = addModel(6);
    proto.ir_version = 3;
    proto.graph!.input!.push(tensorInfo('w', FLOAT, [2, 3]));
    const model = decodeOnnx(modelBytes(proto));
    const w = model.graph.getValue('w')!;
    expect(w.isGraphInput).toBe(true);
    expect(w.constant).toBeDefined();
    const back = decodeModelProto(encodeOnnx(model));
    expect(back.graph!.input!.map((i) => i.name)).toEqual(['x', 'w']);
    expect(back.graph!.initializer!.map((i) => i.name)).toEqual(['w']);
  });

  test('sparse initializers and sequence/optional/map types', () => {
    const proto = addModel();
    proto.graph!.sparse_initializer = [
      { values: { name: 'sp', data_type: FLOAT, dims: [2], float_data: [5, 6] }, indices: { data_type: 7, dims: [2], int64_data: [1, 4] }, dims: [2, 3] },
    ];
    proto.graph!.input!.push({ name: 'seq', type: { sequence_type: { elem_type: { tensor_type: { elem_type: FLOAT } } } } });
    proto.graph!.input!.push({ name: 'opt', type: { optional_type: { elem_type: { tensor_type: { elem_type: 7, shape: { dim: [{}] } } } } } });
    proto.graph!.input!.push({ name: 'map', type: { map_type: { key_type: 8, value_type: { tensor_type: { elem_type: FLOAT } } } } });
    const model = decodeOnnx(modelBytes(proto));
    expect(model.graph.getValue('sp')!.sparseConstant!.dims).toEqual([2, 3]);
    expect(model.graph.getValue('seq')!.type).toEqual({ kind: 'sequence', element: { kind: 'tensor', dtype: 'float32', shape: null } });
    expect(model.graph.getValue('opt')!.type).toEqual({ kind: 'optional', element: { kind: 'tensor', dtype: 'int64', shape: [null] } });
    expect(model.graph.getValue('map')!.type.kind).toBe('map');
    const again = decodeOnnx(encodeOnnx(model));
    expect(again.graph.getValue('sp')!.sparseConstant!.values.toNumbers()).toEqual([5, 6]);
    expect(again.graph.getValue('opt')!.type).toEqual(model.graph.getValue('opt')!.type);
  });
});

describe('external data', () => {
  function bigModel(dir: string): string {
    const proto = addModel();
    const values = Array.from({ length: 6 * 1000 }, (_, i) => i / 7);
    proto.graph!.initializer = [{ name: 'w', data_type: FLOAT, dims: [1000, 6], float_data: values }];
    proto.graph!.node = [{ op_type: 'MatMul', input: ['x', 'w'], output: ['y'] }];
    proto.graph!.input = [tensorInfo('x', FLOAT, [2, 1000])];
    proto.graph!.output = [tensorInfo('y', FLOAT, [2, 6])];
    const path = join(dir, 'big.onnx');
    writeFileSync(path, modelBytes(proto));
    return path;
  }

  test("'always' writes one aligned data file read lazily, identical bytes after a second trip", () => {
    const dir = tempDir('external');
    const source = readOnnx(bigModel(dir));
    const out = join(dir, 'out.onnx');
    writeOnnx(source, out, { externalData: 'always' });
    const proto = decodeModelProto(readFileSync(out));
    const entries = Object.fromEntries(proto.graph!.initializer![0]!.external_data!.map((e) => [e.key, e.value]));
    expect(entries).toEqual({ location: 'out.onnx.data', offset: '0', length: String(24000) });
    const model = readOnnx(out);
    const w = model.graph.getValue('w')!.constant!;
    expect(w.storage).toBeInstanceOf(FileRangeStorage);
    expect(w.equals(source.graph.getValue('w')!.constant!)).toBe(true);
    // Back inside one file again.
    writeOnnx(model, join(dir, 'inline.onnx'), { externalData: 'never' });
    expect(decodeModelProto(readFileSync(join(dir, 'inline.onnx'))).graph!.initializer![0]!.raw_data!.byteLength).toBe(24000);
    const inline = readOnnx(join(dir, 'inline.onnx')).graph.getValue('w')!.constant!;
    expect((inline.storage as FileRangeStorage).path).toBe(join(dir, 'inline.onnx')); // raw_data read lazily from the .onnx file
    expect(inline.equals(w)).toBe(true);
    // Python's onnx reads our external data too.
    const check = spawnSync(PYTHON, ['-c', `import onnx,sys; from onnx import numpy_helper; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print(numpy_helper.to_array(m.graph.initializer[0]).sum())`, out], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(Number(check.stdout)).toBeCloseTo(Array.from({ length: 6000 }, (_, i) => i / 7).reduce((a, b) => a + b), 0);
  });

  test('escaping, absolute and missing external paths are clear errors', () => {
    const dir = tempDir('escape');
    for (const [location, pattern] of [
      ['../secret.bin', /not inside the model's folder/],
      ['/etc/passwd', /not inside the model's folder/],
      ['missing.bin', /external data file 'missing.bin' of tensor 'w' is missing/],
    ] as const) {
      const proto = addModel();
      proto.graph!.initializer = [{ name: 'w', data_type: FLOAT, dims: [2, 3], data_location: 1, external_data: [{ key: 'location', value: location }] }];
      const path = join(dir, 'm.onnx');
      writeFileSync(path, modelBytes(proto));
      let error: unknown;
      try {
        readOnnx(path);
      } catch (e) {
        error = e;
      }
      expect(ModelpassError.is(error)).toBe(true);
      expect((error as Error).message).toMatch(pattern);
      expect((error as ModelpassError).location?.file).toBeDefined();
    }
  });

  test('writes are atomic: a failing write leaves no file behind', () => {
    const dir = tempDir('atomic');
    const model = decodeOnnx(modelBytes(addModel()));
    const broken = Tensor.fromStorage('float32', [2, 3], new FileRangeStorage(join(dir, 'gone.bin'), 0, 24));
    model.graph.getValue('w')!.constant = broken;
    expect(() => writeOnnx(model, join(dir, 'never.onnx'))).toThrow(ModelpassError);
    expect(spawnSync('ls', ['-A', dir], { encoding: 'utf8' }).stdout).toBe('');
  });
});

describe('bad input', () => {
  test('wrong file types, truncation and garbage are ModelpassErrors naming the file', () => {
    const png = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0);
    const tflite = Uint8Array.of(0x1c, 0, 0, 0, 0x54, 0x46, 0x4c, 0x33, 0, 0);
    const good = modelBytes(addModel());
    const inputs: [Uint8Array, RegExp][] = [
      [png, /PNG/],
      [tflite, /TFLite/],
      [good.subarray(0, good.length - 7), /truncated or corrupt|not a valid|malformed/],
      [new Uint8Array(0), /empty/],
      [Uint8Array.of(8, 7), /no graph/],
    ];
    for (const [bytes, pattern] of inputs) {
      let error: unknown;
      try {
        decodeOnnx(bytes, { file: 'x.onnx' });
      } catch (e) {
        error = e;
      }
      expect(ModelpassError.is(error), String(error)).toBe(true);
      expect((error as Error).message).toMatch(pattern);
      expect((error as ModelpassError).location?.file).toBe('x.onnx');
    }
  });

  test('unknown ops are carried through', () => {
    const proto = addModel();
    proto.graph!.node!.push({ op_type: 'NoSuchOp', domain: 'vendor.x', input: ['y'], output: ['q'], attribute: [{ name: 'mode', type: 3, s: new TextEncoder().encode('fast') }] });
    const model = decodeOnnx(modelBytes(proto));
    const back = decodeModelProto(encodeOnnx(model));
    expect(back.graph!.node![1]!.op_type).toBe('NoSuchOp');
    expect(back.graph!.node![1]!.domain).toBe('vendor.x');
  });
});

function require_long(): typeof import('long').default {
  return LongModule;
}
import LongModule from 'long';
