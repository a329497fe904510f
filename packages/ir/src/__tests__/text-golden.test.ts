import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  attrs,
  Graph,
  GraphBuilder,
  modelsEqual,
  parseModel,
  printGraph,
  printModel,
  printNode,
  Tensor,
  tensorType,
  verifyModel,
  type Attribute,
} from '@modelpass/ir';

const fixtureDir = fileURLToPath(new URL('./fixtures/mpir/', import.meta.url));
const fixtures = readdirSync(fixtureDir).filter((f) => f.endsWith('.mpir'));

describe('golden .mpir files', () => {
  it('has fixtures', () => expect(fixtures.length).toBeGreaterThanOrEqual(2));
  for (const file of fixtures) {
    it(`${file} prints back exactly as written`, () => {
      const text = readFileSync(fixtureDir + file, 'utf8');
      // conv-block.mpir references weights under /models (absent here: file ranges are read lazily).
      const model = parseModel(text, { file, allowRead: ['/models'] });
      // Structure only: conv-block.mpir spells a quant<> type over float32 data on purpose (syntax).
      expect(verifyModel(model, { types: false })).toEqual([]);
      expect(printModel(model, { referenceFileData: true })).toBe(text);
    });
  }

  it('reads the IR facts of conv-block.mpir', () => {
    const model = parseModel(readFileSync(fixtureDir + 'conv-block.mpir', 'utf8'), { file: 'conv-block.mpir', allowRead: ['/models'] });
    expect(model.irVersion).toBe(8);
    expect([...model.opsetImports]).toEqual([['onnx', 17], ['com.microsoft', 1]]);
    expect(model.metadata.get('license')).toBe('Apache-2.0');
    const conv = model.graph.nodeList().find((n) => n.name === 'conv1')!;
    expect(conv.op).toBe('onnx.Conv');
    expect(conv.attr('kernel_shape', 'ints')).toEqual([1, 1]);
    expect(conv.loc).toEqual({ file: 'resnet.onnx', line: 12, column: 5 });
    const fmm = model.graph.nodeList().find((n) => n.name === 'fmm')!;
    expect(fmm.dialect).toBe('com.microsoft');
    expect(fmm.outputs[1]).toBeNull();
    expect(fmm.attr('alpha', 'float')).toBe(1);
    const bias = model.graph.getValue('b')!.constant!;
    expect(Object.is(bias.toNumbers()[1], -0)).toBe(true);
    expect(bias.toNumbers()[2]).toBe(Infinity);
    const w = model.graph.getValue('w')!;
    expect(w.type).toMatchObject({ quant: { bits: 8, axis: 0, scale: [0.5, 0.25, 0.125, 1] } });
    // NaN with a payload keeps its exact bits (so it prints as hex).
    expect([...w.constant!.bytes().slice(44)]).toEqual([0x01, 0x00, 0xc0, 0x7f]);
    const x = model.graph.inputs[0]!;
    expect(x.constant?.storage?.kind).toBe('file-range');
    expect(x.isConstant).toBe(false);
    expect(model.graph.getValue('shape')!.constant!.data()).toEqual(new BigInt64Array([-1n, 9223372036854775807n]));
  });

  it('resolves subgraph uses of outer values and function attribute references', () => {
    const model = parseModel(readFileSync(fixtureDir + 'control-flow.mpir', 'utf8'));
    const ifNode = model.graph.firstNode!;
    const thenBranch = ifNode.attr('then_branch', 'graph');
    expect(thenBranch.parentNode).toBe(ifNode);
    expect(thenBranch.firstNode!.inputs[0]).toBe(model.graph.inputs[1]);
    expect(model.functions[0]!.body.firstNode!.getAttribute('value_float')).toEqual({ kind: 'ref', refKind: 'float', refName: 'alpha' });
    expect(model.functions[0]!.attributeDefaults.get('alpha')).toEqual({ kind: 'float', value: 2 });
    const sink = model.graph.nodeList().find((n) => n.name === 'sink')!;
    expect(sink.attr('weights', 'tensors')[0]!.data()).toEqual(new Int8Array([-1, 2, 3]));
    expect(sink.attr('labels', 'strings')).toEqual([]);
    expect(sink.attr('names', 'strings')).toEqual(['a\tb', '"quoted"', '\u0000']);
  });
});

describe('printing models built in code', () => {
  it('prints the exact expected text', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', ['N', 3, null]));
    const w = b.constant(Tensor.fromValues('float32', [2], [0.1, -0]), 'w');
    const [y] = b.op('com.microsoft.FusedConv', [x, w, null], { activation: attrs.string('Relu'), alpha: attrs.float(NaN), pads: attrs.ints([]) }, { name: 'fc', loc: { file: 'm.onnx', line: 3 }, types: [tensorType('float32', ['N', 2, null])] });
    b.output(y!);
    const model = b.model({ onnx: 17, 'com.microsoft': 1 });
    expect(printModel(model)).toBe(
      [
        'model opsets{onnx=17, com.microsoft=1} {',
        'graph @main(%x: float32[N,3,?]) {',
        '  const %w = tensor<float32[2]> [0.1, -0]',
        '  %fc_0: float32[N,2,?] = com.microsoft.FusedConv(%x, %w, null) {activation="Relu", alpha=nan, pads=ints[]} name="fc" loc("m.onnx":3)',
        '  return %fc_0',
        '}',
        '}',
        '',
      ].join('\n'),
    );
    expect(printNode(y!.producer!)).toBe('%fc_0: float32[N,2,?] = com.microsoft.FusedConv(%x, %w, null) {activation="Relu", alpha=nan, pads=ints[]} name="fc" loc("m.onnx":3)');
    expect(printGraph(model.graph).startsWith('graph @main(%x: float32[N,3,?]) {\n')).toBe(true);
  });

  it('keeps every float attribute value exactly (NaN, ±Inf, -0, subnormals, big integers)', () => {
    const values = [NaN, Infinity, -Infinity, -0, 0, 5e-324, 1.7976931348623157e308, 0.1, 1e21, 123456789.125];
    const b = new GraphBuilder();
    const x = b.input('x');
    const attributes: Record<string, Attribute> = { f: attrs.floats(values), i: attrs.ints([2 ** 53 - 1, -(2 ** 53), 1e21, 1e300]) };
    values.forEach((v, i) => (attributes[`f${i}`] = attrs.float(v)));
    b.output(b.op1('onnx.Foo', [x], attributes));
    const model = b.model();
    const text = printModel(model);
    const back = parseModel(text);
    expect(modelsEqual(model, back)).toBeUndefined();
    values.forEach((v, i) => expect(Object.is(back.graph.firstNode!.attr(`f${i}`, 'float'), v)).toBe(true));
    expect(back.graph.firstNode!.attr('i', 'ints')).toEqual([2 ** 53 - 1, -(2 ** 53), 1e21, 1e300]);
  });

  it('reads hand-written text: comments, omitted names, any whitespace, bare graph files', () => {
    const text = `
      // a graph without the model header
      graph @g(%a: float32[2]) {
        %b = onnx.Relu(%a)   // no name: one is made from the op type
        %c = onnx.Relu(%b)
        return %c
      }`;
    const model = parseModel(text);
    expect(model.graph.nodeList().map((n) => n.name)).toEqual(['Relu', 'Relu_1']);
    expect(verifyModel(model)).toEqual([]);
  });

  it('parses uses before definitions (non-topological IR) so that they round-trip', () => {
    const g = new Graph('g');
    const a = g.addInput('a');
    const first = g.createNode({ op: 'onnx.Neg', inputs: [a], name: 'first', outputs: ['p'] });
    const second = g.createNode({ op: 'onnx.Abs', inputs: [a], name: 'second', outputs: ['q'], before: first });
    first.setInput(0, second.output());
    second.setInput(0, first.output()); // a cycle: the verifier flags it, the text still round-trips
    g.addOutput(first.output());
    const model = new GraphBuilder(g).model();
    const text = printModel(model);
    const back = parseModel(text);
    expect(modelsEqual(model, back)).toBeUndefined();
    expect(printModel(back)).toBe(text);
  });
});
