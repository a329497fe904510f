import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  attrs,
  FileRangeStorage,
  Graph,
  GraphBuilder,
  Model,
  ModelpassError,
  parseModel,
  printModel,
  printModelToFile,
  readModelText,
  Tensor,
  tensorType,
} from '@modelpass/ir';

const root = mkdtempSync(join(tmpdir(), 'mpir-refs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A folder with `weights.bin` (four float32 values after an 8-byte header). */
function modelFolder(name: string): string {
  const folder = join(root, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'weights.bin'), Buffer.concat([Buffer.alloc(8, 0xee), Buffer.from(new Float32Array([1, 2, 3, 4]).buffer)]));
  return folder;
}

const modelReferencing = (path: string, offset = 8) =>
  `model opsets{onnx=17} {\ngraph @main(%x: float32[4]) {\n  const %w = tensor<float32[4]> file(${JSON.stringify(path)}, offset=${offset}, length=16)\n  %y = onnx.Add(%x, %w)\n  return %y\n}\n}\n`;

function errorOf(action: () => unknown): ModelpassError {
  try {
    action();
  } catch (error) {
    expect(ModelpassError.is(error), String(error)).toBe(true);
    return error as ModelpassError;
  }
  throw new Error('expected a ModelpassError');
}

const referenceColumn = (text: string) => text.split('\n')[2]!.indexOf('file(') + 'file('.length + 1;

describe('file(...) references in .mpir files', () => {
  it("resolve relative paths against the .mpir file's folder, not the working directory", () => {
    const folder = modelFolder('relative');
    writeFileSync(join(folder, 'model.mpir'), modelReferencing('weights.bin'));
    expect(process.cwd()).not.toBe(folder);
    const model = readModelText(join(folder, 'model.mpir'));
    const weights = model.graph.getValue('w')!.constant!;
    expect(weights.storage).toBeInstanceOf(FileRangeStorage);
    expect((weights.storage as FileRangeStorage).path).toBe(join(folder, 'weights.bin'));
    expect([...new Float32Array(weights.bytes().slice().buffer)]).toEqual([1, 2, 3, 4]);
  });

  it('refuse an absolute path outside the folder (/etc/shadow) with a located error', () => {
    const folder = modelFolder('absolute');
    const text = modelReferencing('/etc/shadow', 0);
    writeFileSync(join(folder, 'model.mpir'), text);
    const error = errorOf(() => readModelText(join(folder, 'model.mpir')));
    expect(error.reason).toBe("file(...) reference '/etc/shadow' lies outside the folders this IR may read");
    expect(error.location).toEqual({ file: join(folder, 'model.mpir'), line: 3, column: referenceColumn(text) });
    expect(error.message).toContain('MODELPASS_ALLOW_READ=DIR');
  });

  it('refuse ../ escapes unless the folder is allowed', () => {
    const outside = modelFolder('outside');
    const folder = modelFolder('escapes');
    writeFileSync(join(folder, 'model.mpir'), modelReferencing('../outside/weights.bin'));
    expect(errorOf(() => readModelText(join(folder, 'model.mpir'))).reason).toMatch(/lies outside the folders this IR may read/);
    const model = readModelText(join(folder, 'model.mpir'), { allowRead: [outside] });
    expect((model.graph.getValue('w')!.constant!.storage as FileRangeStorage).path).toBe(join(outside, 'weights.bin'));
  });

  it('follow symlinks: a link inside the folder that points outside is refused, the real target is read when allowed', () => {
    const secret = modelFolder('secret');
    const folder = modelFolder('links');
    symlinkSync(join(secret, 'weights.bin'), join(folder, 'link.bin'));
    symlinkSync(secret, join(folder, 'linked-folder'));
    for (const reference of ['link.bin', 'linked-folder/weights.bin']) {
      const text = modelReferencing(reference);
      writeFileSync(join(folder, 'model.mpir'), text);
      const error = errorOf(() => readModelText(join(folder, 'model.mpir')));
      expect(error.reason).toBe(`file(...) reference '${reference}' leads through a symbolic link to '${join(secret, 'weights.bin')}', outside the folders this IR may read`);
      expect(error.location?.line).toBe(3);
    }
    const model = readModelText(join(folder, 'model.mpir'), { allowRead: [secret] });
    expect((model.graph.getValue('w')!.constant!.storage as FileRangeStorage).path).toBe(join(secret, 'weights.bin'));
  });

  it('check strings parsed without a file against the working directory, and allowRead: anywhere turns the check off', () => {
    const folder = modelFolder('anywhere');
    const text = modelReferencing(join(folder, 'weights.bin'));
    expect(errorOf(() => parseModel(text)).reason).toMatch(/lies outside/);
    expect(parseModel(text, { allowRead: 'anywhere' }).graph.getValue('w')!.constant!.bytes().byteLength).toBe(16);
    expect(parseModel(text, { baseDirectory: folder }).graph.getValue('w')).toBeDefined();
  });

  it('refuse a FIFO as the target instead of blocking on it', () => {
    const folder = modelFolder('fifo-target');
    execFileSync('mkfifo', [join(folder, 'pipe.bin')]);
    const text = modelReferencing('pipe.bin', 0);
    writeFileSync(join(folder, 'model.mpir'), text);
    const error = errorOf(() => readModelText(join(folder, 'model.mpir')));
    expect(error.reason).toBe("file(...) reference 'pipe.bin' is a FIFO (named pipe), not a regular file");
    expect(error.location).toMatchObject({ line: 3, column: referenceColumn(text) });
    // Storage built in code (or a file swapped for a FIFO after parsing) is refused when read.
    const storage = new FileRangeStorage(join(folder, 'pipe.bin'), 0, 0);
    expect(errorOf(() => storage.read()).reason).toMatch(/is not a regular file/);
  });

  it('refuse a FIFO, a folder or a device as the .mpir input instead of blocking on it', () => {
    const folder = modelFolder('fifo-input');
    execFileSync('mkfifo', [join(folder, 'model.mpir')]);
    const fifo = errorOf(() => readModelText(join(folder, 'model.mpir')));
    expect(fifo.reason).toBe(`cannot read '${join(folder, 'model.mpir')}': it is a FIFO (named pipe), not a regular file`);
    expect(errorOf(() => readModelText(folder)).reason).toMatch(/it is a folder, not a regular file/);
    expect(errorOf(() => readModelText('/dev/zero')).reason).toMatch(/it is a device, not a regular file/);
    expect(errorOf(() => readModelText(join(folder, 'missing.mpir'))).reason).toMatch(/no such file/);
  });

  it('locate a negative offset and a range past the end of the file at parse time', () => {
    const folder = modelFolder('ranges');
    const negative = modelReferencing('weights.bin', -5);
    writeFileSync(join(folder, 'negative.mpir'), negative);
    const error = errorOf(() => readModelText(join(folder, 'negative.mpir')));
    expect(error.reason).toBe('file range offset is negative');
    expect(error.location).toMatchObject({ line: 3, column: negative.split('\n')[2]!.indexOf('-5') + 1 });
    writeFileSync(join(folder, 'past.mpir'), modelReferencing('weights.bin', 16));
    expect(errorOf(() => readModelText(join(folder, 'past.mpir'))).message).toMatch(/past\.mpir:3:\d+: file range \[16, 32\) is past the end of 'weights\.bin' \(expected a file of at least 32 bytes, got 24 bytes\)/);
  });

  it('print references relative to the output folder, so the written pair moves together', () => {
    const folder = modelFolder('printed');
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [4]));
    const w = b.constant(Tensor.fromStorage('float32', [4], new FileRangeStorage(join(folder, 'weights.bin'), 8, 16)), 'w');
    b.output(b.op1('onnx.Add', [x, w]));
    printModelToFile(b.model(), join(folder, 'out.mpir'), { referenceFileData: true });
    expect(readFileSync(join(folder, 'out.mpir'), 'utf8')).toContain('file("weights.bin", offset=8, length=16)');
    const moved = join(root, 'moved');
    execFileSync('mv', [folder, moved]);
    const back = readModelText(join(moved, 'out.mpir'));
    expect([...new Float32Array(back.graph.getValue('w')!.constant!.bytes().slice().buffer)]).toEqual([1, 2, 3, 4]);
  });
});

describe('nesting limits', () => {
  it('a model built in code with subgraphs nested 20000 deep prints as a ModelpassError, not an internal error', () => {
    let inner = new Graph('g20000');
    inner.addOutput(inner.createNode({ op: 'test.Leaf', outputs: ['leaf'] }).outputs[0]!);
    for (let level = 19999; level >= 0; level--) {
      const outer = new Graph(`g${level}`);
      outer.addOutput(outer.createNode({ op: 'test.Wrap', outputs: [`v${level}`], attributes: { body: attrs.graph(inner) } }).outputs[0]!);
      inner = outer;
    }
    const error = errorOf(() => printModel(new Model(inner)));
    expect(error.reason).toBe('the model nests subgraphs too deeply to print (the call stack ran out)');
  });

  /** `depth` graphs, each holding the next in a node attribute. */
  function nestedGraphs(depth: number): string {
    let text = '';
    for (let level = 0; level < depth - 1; level++) text += `graph @g${level}() {\n%v${level} = test.Wrap() {body=`;
    text += `graph @g${depth - 1}() {\n%leaf = test.Leaf()\nreturn %leaf\n}`;
    for (let level = depth - 2; level >= 0; level--) text += `}\nreturn %v${level}\n}`;
    return text + '\n';
  }

  it('a graph nested 1000 deep is a located error, not a stack overflow', () => {
    const error = errorOf(() => parseModel(nestedGraphs(1000), { file: 'deep.mpir' }));
    expect(error.reason).toBe('graphs nested more than 64 levels deep');
    // The 65th graph, @g64, opens on line 65 after `%v63 = test.Wrap() {body=`.
    expect(error.location).toEqual({ file: 'deep.mpir', line: 65, column: '%v63 = test.Wrap() {body='.length + 1 });
  });

  it('types nested 1000 deep are a located error', () => {
    const type = 'optional<'.repeat(1000) + 'float32[1]' + '>'.repeat(1000);
    const error = errorOf(() => parseModel(`graph @main(%x: ${type}) {\n}\n`, { file: 'deep.mpir' }));
    expect(error.reason).toBe('types nested more than 64 levels deep');
    // The graph is level 1, so the 64th optional<> is level 65.
    expect(error.location).toEqual({ file: 'deep.mpir', line: 1, column: 'graph @main(%x: '.length + 63 * 'optional<'.length + 1 });
  });

  it('the limit is an option: 64 levels parse by default, more with maxNesting', () => {
    expect(parseModel(nestedGraphs(64)).graph.nodeList()).toHaveLength(1);
    expect(() => parseModel(nestedGraphs(65))).toThrow(/nested more than 64 levels/);
    expect(parseModel(nestedGraphs(200), { maxNesting: 200 }).graph.name).toBe('g0');
    expect(() => parseModel(nestedGraphs(3), { maxNesting: 2 })).toThrow(/graphs nested more than 2 levels deep/);
    expect(() => parseModel(nestedGraphs(3), { maxNesting: 0 })).toThrow(/maxNesting must be a whole number/);
    // A limit raised past what the stack holds is still a located error.
    const error = errorOf(() => parseModel('optional<'.repeat(100000).replace(/^/, 'graph @main(%x: ') + 'float32[1]', { file: 'deep.mpir', maxNesting: 1e6 }));
    expect(error.reason).toBe("the text nests too deeply for the parser's stack (maxNesting is 1000000)");
    expect(error.location).toMatchObject({ file: 'deep.mpir', line: 1 });
  });
});
