import { describe, expect, it } from 'vitest';
import {
  attrs,
  defineOp,
  GraphBuilder,
  OpRegistry,
  PatternSet,
  Tensor,
  applyPatternsGreedily,
  tensorType,
  verifyModel,
  ModelpassError,
} from '@modelpass/ir';

const relu = defineOp({ op: 'onnx.Relu', inputs: [{ name: 'X' }], outputs: [{ name: 'Y' }] });
const add = defineOp({ op: 'onnx.Add', inputs: [{ name: 'A' }, { name: 'B' }], outputs: [{ name: 'C' }] });
const identity = defineOp({ op: 'onnx.Identity', inputs: [{ name: 'X' }], outputs: [{ name: 'Y' }] });
const conv = defineOp({
  op: 'onnx.Conv',
  inputs: [{ name: 'X' }, { name: 'W' }, { name: 'B', optional: true }],
  outputs: [{ name: 'Y' }],
  attributes: { group: { kind: 'int', default: 1 }, auto_pad: { kind: 'string', oneOf: ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] } },
});
const registry = new OpRegistry([relu, add, identity, conv]);

describe('graph mutation keeps def-use chains true', () => {
  it('tracks uses through replaceAllUsesWith and erase', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', ['N', 4]));
    const y = b.op1('onnx.Relu', [x]);
    const z = b.op1('onnx.Add', [y, y]);
    b.output(z);
    expect(y.useCount).toBe(2);
    const id = b.graph.createNode({ op: 'onnx.Identity', inputs: [x], before: z.producer! });
    y.replaceAllUsesWith(id.output());
    expect(y.useCount).toBe(0);
    expect(id.output().useCount).toBe(2);
    y.producer!.erase();
    expect(x.useCount).toBe(1);
    expect(b.graph.nodeCount).toBe(2);
    expect(verifyModel(b.model(), { registry })).toEqual([]);
  });

  it('refuses to erase a node whose outputs are used', () => {
    const b = new GraphBuilder();
    const x = b.input('x');
    const y = b.op1('onnx.Relu', [x], {}, { name: 'r' });
    b.output(y);
    expect(() => y.producer!.erase()).toThrow(ModelpassError);
    expect(() => y.producer!.erase()).toThrow(/node 'r' \(onnx.Relu\)/);
  });

  it('replaces graph outputs too', () => {
    const b = new GraphBuilder();
    const x = b.input('x');
    const y = b.op1('onnx.Relu', [x]);
    b.output(y);
    y.replaceAllUsesWith(x, { keepOutputNames: false });
    expect(b.graph.outputs[0]).toBe(x);
    expect(x.isGraphOutput).toBe(true);
  });
});

describe('verifier', () => {
  it('reports out-of-order uses, bad attributes and arity with the node name', () => {
    const b = new GraphBuilder();
    const x = b.input('x');
    const late = b.node('onnx.Relu', [x], {}, { name: 'late' });
    const early = b.node('onnx.Relu', [late.output()], {}, { name: 'early' });
    early.moveBefore(late);
    b.node('onnx.Conv', [x], { auto_pad: attrs.string('BOGUS'), group: attrs.float(1), wat: attrs.int(1) }, { name: 'c' });
    const diagnostics = verifyModel(b.model(), { registry });
    const text = diagnostics.map((d) => `${d.location?.node}: ${d.reason}`);
    expect(text).toContain("early: input #0 'late_0' is used before it is defined (nodes are out of topological order)");
    expect(text).toContain("c: onnx.Conv takes 2 to 3 inputs");
    expect(text).toContain("c: attribute 'auto_pad' has an unsupported value");
    expect(text).toContain("c: attribute 'group' has the wrong kind");
    expect(text).toContain("c: unknown attribute 'wat' for onnx.Conv");
  });

  it('sees outer values from subgraphs', () => {
    const outer = new GraphBuilder();
    const x = outer.input('x');
    const inner = new GraphBuilder();
    inner.graph.name = 'body';
    const ifNode = outer.node('test.If', [x], { then_branch: attrs.graph(inner.graph) });
    inner.output(inner.op1('onnx.Relu', [x]));
    outer.output(ifNode.output());
    expect(verifyModel(outer.model(), { registry })).toEqual([]);
    expect(inner.graph.path()).toBe('main/If.then_branch');
  });

  it("joins a graph path and a torch-style node name ('/features/0/Conv') without a double slash", () => {
    const b = new GraphBuilder();
    const x = b.input('x');
    const relu = b.node('onnx.Relu', [x], {}, { name: '/features/0/Relu' });
    const plain = b.node('onnx.Relu', [relu.output()], {}, { name: 'relu2' });
    expect(b.graph.pathTo(relu)).toBe('main/features/0/Relu');
    expect(b.graph.pathTo(plain)).toBe('main/relu2');
  });
});

describe('tensors', () => {
  it('round-trips values through every numeric dtype', () => {
    expect(Tensor.fromValues('float16', [3], [1, -2.5, 65504]).toNumbers()).toEqual([1, -2.5, 65504]);
    expect(Tensor.fromValues('int4', [3], [-8, 7, 1]).toNumbers()).toEqual([-8, 7, 1]);
    expect(Tensor.fromValues('int4', [3], [-8, 7, 1]).byteLength).toBe(2);
    expect(Tensor.fromValues('bfloat16', [2], [1, 3]).toNumbers()).toEqual([1, 3]);
    expect(Tensor.fromValues('float8e4m3fn', [2], [448, -0.5]).toNumbers()).toEqual([448, -0.5]);
    expect(Tensor.fromValues('int64', [2], [2n ** 62n, -1n]).data()).toEqual(new BigInt64Array([2n ** 62n, -1n]));
  });
});

describe('rewrite engine', () => {
  it('applies patterns to a fixed point', () => {
    const b = new GraphBuilder();
    const x = b.input('x');
    let v = x;
    for (let i = 0; i < 5; i++) v = b.op1('onnx.Identity', [v]);
    b.output(b.op1('onnx.Relu', [v]));
    const patterns = new PatternSet([
      {
        name: 'drop-identity',
        ops: ['onnx.Identity'],
        rewrite(node, rewriter) {
          rewriter.replaceNode(node, [node.input(0)]);
          return true;
        },
      },
    ]);
    const result = applyPatternsGreedily(b.graph, patterns);
    expect(result.converged).toBe(true);
    expect(result.counts.get('drop-identity')).toBe(5);
    expect(b.graph.nodeCount).toBe(1);
  });

  it('reports patterns that never converge', () => {
    const b = new GraphBuilder();
    const x = b.input('x');
    b.output(b.op1('onnx.Relu', [x]));
    const patterns = new PatternSet([{ name: 'flip', ops: ['onnx.Relu'], rewrite: (node) => { node.name += '!'; return true; } }]);
    const result = applyPatternsGreedily(b.graph, patterns, { maxIterations: 3 });
    expect(result.converged).toBe(false);
    expect(result.diagnostics[0]!.reason).toMatch(/did not reach a fixed point/);
  });
});

describe('decoding from pooled Node buffers', () => {
  it('decodes int8/uint8 from a Buffer view without reading past it', () => {
    const pool = Buffer.from([1, 2, 3, 0xff, 0xfe, 9, 9, 9]);
    const view = pool.subarray(3, 5);
    expect(Array.from(Tensor.fromBytes('int8', [2], view).data() as Int8Array)).toEqual([-1, -2]);
    expect(Array.from(Tensor.fromBytes('uint8', [2], view).data() as Uint8Array)).toEqual([255, 254]);
  });
});

describe('mini-float infinities', () => {
  it('keeps infinity in float8e5m2 and saturates where there is none', () => {
    expect(Tensor.fromValues('float8e5m2', [2], [Infinity, -Infinity]).toNumbers()).toEqual([Infinity, -Infinity]);
    expect(Tensor.fromValues('float8e4m3fn', [1], [Infinity]).toNumbers()).toEqual([448]);
  });
});

describe('chunked reads of tensor storage', () => {
  it('reads parts of memory, file-range and computed storage without producing the rest', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { MemoryStorage, FileRangeStorage, ComputedStorage } = await import('@modelpass/ir');
    const bytes = Uint8Array.from({ length: 64 }, (_, i) => i);
    const dir = mkdtempSync(join(tmpdir(), 'mp-chunk-'));
    try {
      writeFileSync(join(dir, 'w.bin'), Buffer.concat([Buffer.alloc(8, 0xee), Buffer.from(bytes)]));
      let wholeComputations = 0;
      const storages = [
        new MemoryStorage(bytes),
        new FileRangeStorage(join(dir, 'w.bin'), 8, 64),
        new ComputedStorage(64, () => (wholeComputations++, bytes), 'pattern', (target, start) => target.set(bytes.subarray(start, start + target.byteLength))),
      ];
      for (const storage of storages) {
        const chunk = new Uint8Array(10);
        storage.readChunk!(chunk, 50);
        expect(Array.from(chunk), storage.describe()).toEqual([50, 51, 52, 53, 54, 55, 56, 57, 58, 59]);
        expect(() => storage.readChunk!(new Uint8Array(20), 50)).toThrow(RangeError);
      }
      expect(wholeComputations).toBe(0);
      expect(() => new FileRangeStorage(join(dir, 'w.bin'), 8, 100).read()).toThrow(/past the end/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('modelsEqual options', () => {
  it('can ignore node source locations', async () => {
    const { modelsEqual } = await import('@modelpass/ir');
    const build = (file: string) => {
      const b = new GraphBuilder();
      const x = b.input('x', tensorType('float32', [2]));
      b.output(b.op1('onnx.Relu', [x], {}, { name: 'r', loc: { file, node: 'r' } }));
      return b.model();
    };
    expect(modelsEqual(build('a.onnx'), build('b.onnx'))).toMatch(/loc\.file/);
    expect(modelsEqual(build('a.onnx'), build('b.onnx'), { locations: false })).toBeUndefined();
  });
});
