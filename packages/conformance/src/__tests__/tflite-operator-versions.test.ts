/**
 * The operator versions the writer gives int8/int16 ops (writer/operator-version.ts) against the
 * TFLite 2.9 runtime: each model is written by modelpass, loaded (a version the runtime does not
 * register is refused at load: "Didn't find op for builtin opcode … version …") and run on integer
 * inputs, whose outputs are checked against what the op does to the integers.
 */
import { describe, expect, it } from 'vitest';
import { attrs, Graph, Model, Tensor, tensorType, type Attribute, type DType, type QuantParams, type Type, type Value } from '@modelpass/ir';
import { TfliteEngine } from '@modelpass/runtime';
import { encodeTflite, META_OPERATOR_VERSION, readTflite } from '@modelpass/tflite';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const quantFor = (dtype: DType): QuantParams => (dtype === 'int16' ? { scale: [Math.fround(0.01)], zeroPoint: [0], bits: 16 } : { scale: [Math.fround(0.05)], zeroPoint: [-3], bits: 8 });

interface Case {
  readonly op: string;
  readonly dtype: DType;
  readonly version: number;
  build(graph: Graph, x: Value, type: (shape: number[]) => Type): { outputs: Value[]; attributes?: Record<string, Attribute> };
  expected(x: number[]): number[][];
}

const int32 = (graph: Graph, name: string, values: number[], shape = [values.length]) => graph.addConstant(name, Tensor.fromValues('int32', shape, values));
const X = [1, -2, 3, 40, -50, 6, 7, -8, 9, 100, -110, 12];

function node(graph: Graph, op: string, inputs: Value[], outputs: Type[], attributes: Record<string, Attribute> = {}): Value[] {
  return graph.createNode({ op: `tflite.${op}`, name: op.toLowerCase(), inputs, outputs: outputs.map((type, i) => ({ name: `y${i}`, type })), attributes }).outputs.map((v) => v!);
}

function cases(dtype: DType): Case[] {
  const q = quantFor(dtype);
  return [
    {
      op: 'SPLIT_V', dtype, version: dtype === 'int8' ? 2 : 1,
      build: (graph, x, type) => ({ outputs: node(graph, 'SPLIT_V', [x, int32(graph, 'sizes', [1, 2]), int32(graph, 'axis', [1], [])], [type([2, 1, 2]), type([2, 2, 2])], { num_splits: attrs.int(2) }) }),
      // x [2,3,2]: rows 0 | 1..2 along axis 1
      expected: (x) => [[x[0]!, x[1]!, x[6]!, x[7]!], [x[2]!, x[3]!, x[4]!, x[5]!, x[8]!, x[9]!, x[10]!, x[11]!]],
    },
    {
      op: 'SPLIT', dtype, version: dtype === 'int8' ? 2 : 4,
      build: (graph, x, type) => ({ outputs: node(graph, 'SPLIT', [int32(graph, 'axis', [0], []), x], [type([1, 3, 2]), type([1, 3, 2])], { num_splits: attrs.int(2) }) }),
      expected: (x) => [x.slice(0, 6), x.slice(6)],
    },
    {
      op: 'MIRROR_PAD', dtype, version: 2,
      build: (graph, x, type) => ({ outputs: node(graph, 'MIRROR_PAD', [x, int32(graph, 'pads', [0, 0, 1, 0, 0, 0], [3, 2])], [type([2, 4, 2])], { mode: attrs.string('REFLECT') }) }),
      // one reflected row before axis 1: row 1, then rows 0..2
      expected: (x) => [[x[2]!, x[3]!, ...x.slice(0, 6), x[8]!, x[9]!, ...x.slice(6)]],
    },
    {
      op: 'RELU6', dtype, version: dtype === 'int8' ? 2 : 3,
      build: (graph, x, type) => ({ outputs: node(graph, 'RELU6', [x], [type([2, 3, 2])]) }),
      expected: (x) => {
        const [scale, zero] = [q.scale[0]!, q.zeroPoint[0]!];
        return [x.map((v) => Math.min(Math.max(v, zero), zero + Math.round(6 / scale)))];
      },
    },
    {
      op: 'RELU_N1_TO_1', dtype, version: 1,
      build: (graph, x, type) => ({ outputs: node(graph, 'RELU_N1_TO_1', [x], [type([2, 3, 2])]) }),
      // reals clamped to [-1, 1], as integers of the same scale and zero point
      expected: (x) => {
        const [scale, zero] = [q.scale[0]!, q.zeroPoint[0]!];
        const low = zero + Math.round(-1 / scale);
        const high = zero + Math.round(1 / scale);
        return [x.map((v) => Math.min(Math.max(v, low), high))];
      },
    },
  ];
}

describe('operator versions of int8/int16 ops load and run in TFLite 2.9', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelpass-op-versions-'));
  for (const dtype of ['int8', 'int16'] as const) {
    // TFLite 2.9's RELU_N1_TO_1 and MIRROR_PAD kernels take no int16 (legalize-tflite writes MAXIMUM/MINIMUM for an int16
    // Clip(-1, 1) and refuses an int16 reflect Pad); the version written is still the one the op signature asks for.
    for (const testCase of cases(dtype).filter((c) => !(['RELU_N1_TO_1', 'MIRROR_PAD'].includes(c.op) && dtype === 'int16'))) {
      it(`${testCase.op} ${dtype}: version ${testCase.version}`, async () => {
        const q = quantFor(dtype);
        const graph = new Graph('main');
        const type = (shape: number[]) => tensorType(dtype, shape, q);
        const x = graph.addInput('x', type([2, 3, 2]));
        const { outputs } = testCase.build(graph, x, type);
        graph.setOutputs(outputs);
        const model = new Model(graph);
        model.opsetImports.set('tflite', 3);
        const bytes = encodeTflite(model);
        const file = join(dir, `${testCase.op}-${dtype}.tflite`);
        writeFileSync(file, bytes);
        const written = readTflite(file).graph.nodeList().find((n) => n.op === `tflite.${testCase.op}`)!;
        expect(Number(written.metadata.get(META_OPERATOR_VERSION))).toBe(testCase.version);
        const results = [...(await new TfliteEngine().run(bytes, { x: Tensor.fromValues(dtype, [2, 3, 2], X) })).values()].map((t) => t.toNumbers());
        expect(results).toEqual(testCase.expected(X));
      });
    }
  }
  it('RELU_N1_TO_1 and MIRROR_PAD int16: TFLite 2.9 loads them (versions 1 and 2) but its kernels refuse int16, so legalize-tflite never writes them', async () => {
    for (const testCase of cases('int16').filter((c) => ['RELU_N1_TO_1', 'MIRROR_PAD'].includes(c.op))) {
      const graph = new Graph('main');
      const type = (shape: number[]) => tensorType('int16', shape, quantFor('int16'));
      graph.setOutputs(testCase.build(graph, graph.addInput('x', type([2, 3, 2])), type).outputs);
      const model = new Model(graph);
      model.opsetImports.set('tflite', 3);
      await expect(new TfliteEngine().run(encodeTflite(model), { x: Tensor.fromValues('int16', [2, 3, 2], X) })).rejects.toThrow(/Only float32, uint8, int8 supported|MIRROR_PAD\) failed to invoke/);
    }
  });
  it('cleans up', () => rmSync(dir, { recursive: true, force: true }));
});
