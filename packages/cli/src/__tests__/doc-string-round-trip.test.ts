/**
 * note12 item 3: `.onnx → .pt → .onnx` and `.onnx → .tflite → .onnx` dropped the model's and the graph's
 * doc_string (neither TorchScript nor TFLite has a field for them). The .pt keeps them in modelpass's own extra
 * record (`extra/modelpass.json`, beside output names and metadata), the .tflite in its `modelpass.metadata`
 * buffer; the reader of each puts them back. Referees: onnx.load (/usr/bin/python3) reads the doc strings of the
 * final .onnx; torch.jit.load runs the .pt; the TFLite runtime runs the .tflite (compare, exit 0).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-doc-string-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const MODEL_DOC = 'A small regressor: y = relu(x·W).\nSecond line, with "quotes" and ünïcode.';
const GRAPH_DOC = 'The main graph of the regressor.';

function documented(): string {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', [2, 6]));
  const w = Tensor.fromValues('float32', [6, 3], Array.from({ length: 18 }, (_, i) => Math.sin(i + 0.3)));
  g.output(g.op1('onnx.Relu', [g.op1('onnx.MatMul', [x, g.constant(w, 'w')])], {}, { name: 'relu', outputs: ['y'] }));
  const model = g.model({ onnx: 13 });
  model.docString = MODEL_DOC;
  model.graph.docString = GRAPH_DOC;
  const path = join(temp, 'documented.onnx');
  writeFileSync(path, encodeOnnx(model));
  return path;
}

/** The model's and graph's doc_string as onnx.load reads them. */
function onnxDocStrings(path: string): { model: string; graph: string } {
  const script = 'import sys, json, onnx\nm = onnx.load(sys.argv[1])\nprint(json.dumps({"model": m.doc_string, "graph": m.graph.doc_string}))';
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, path], { encoding: 'utf8' })) as { model: string; graph: string };
}

describe('the doc strings of an ONNX model survive a .pt or a .tflite in between', () => {
  const source = documented();

  it('.onnx → .pt → .onnx keeps them, and torch runs the .pt', async () => {
    expect(onnxDocStrings(source)).toEqual({ model: MODEL_DOC, graph: GRAPH_DOC });
    const pt = join(temp, 'documented.pt');
    const back = join(temp, 'from-pt.onnx');
    for (const [from, to] of [[source, pt], [pt, back]] as const) {
      const result = await runCli(['convert', from, '-o', to]);
      expect(result.code, result.stderr).toBe(0);
    }
    expect(onnxDocStrings(back)).toEqual({ model: MODEL_DOC, graph: GRAPH_DOC });
    const torch = 'import sys, torch\nm = torch.jit.load(sys.argv[1])\nprint(tuple(m(torch.ones(2, 6)).shape))';
    expect(execFileSync('/usr/bin/python3', ['-c', torch, pt], { encoding: 'utf8' }).trim()).toBe('(2, 3)');
  }, 60_000);

  it('.onnx → .tflite → .onnx keeps them, and the TFLite runtime agrees with ONNX Runtime on the .tflite', async () => {
    const tflite = join(temp, 'documented.tflite');
    const back = join(temp, 'from-tflite.onnx');
    for (const [from, to] of [[source, tflite], [tflite, back]] as const) {
      const result = await runCli(['convert', from, '-o', to]);
      expect(result.code, result.stderr).toBe(0);
    }
    expect(onnxDocStrings(back)).toEqual({ model: MODEL_DOC, graph: GRAPH_DOC });
    const compared = await runCli(['compare', source, tflite]);
    expect(compared.code, compared.stdout + compared.stderr).toBe(0);
  }, 60_000);
});
