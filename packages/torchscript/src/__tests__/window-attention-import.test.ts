/**
 * Archives shaped like torchvision's swin_t and vit_b_16 as a stranger brings them (QA s9):
 * - a traced window pad computes its amounts with tensor ops on sizes (`remainder(W, 7)`, `int(…)`):
 *   with the input shape given they fold while importing, so the Pad's pads are constants;
 * - the scripted form slices the size list (`x.shape[-3:]`), copies and changes a list
 *   (`shift = self.shift_size.copy(); shift[0] = 0`), sums it and negates its items;
 * - with H and W symbolic the pads are computed at run time (an ONNX Pad fed a Concat of sizes),
 *   and the model written back as TorchScript pads with those computed amounts;
 * - nn.MultiheadAttention traced in eval mode prints `torch._native_multi_head_attention`.
 * Referees: Debian torch (the archive's own outputs) and ONNX Runtime on the imported model; the
 * imported models written back as TorchScript run in torch too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dim, Model } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { readNpy, runOrt } from '@modelpass/runtime';
import { readTorchScript, writeTorchScript } from '@modelpass/torchscript';
import { runPython } from './torch/torch-fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
let dir: string;
let cases: Record<string, number[][]>;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelpass-window-attention-'));
  cases = JSON.parse(runPython(join(here, 'torch/make-window-models.py'), [dir])) as Record<string, number[][]>;
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function worstDifference(a: readonly number[], b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  return a.reduce((worst, v, j) => Math.max(worst, Math.abs(v - b[j]!)), 0);
}

/** Runs the imported model in ORT on every case of `name` and checks each output against torch's. */
async function expectOrtMatchesTorch(name: string, model: Model, tag: string): Promise<void> {
  const onnxPath = join(dir, `${name}.${tag}.onnx`);
  writeOnnx(model, onnxPath);
  for (let i = 0; i < cases[name]!.length; i++) {
    const outputs = [...(await runOrt(onnxPath, { [model.graph.inputs[0]!.name]: readNpy(join(dir, `${name}.input${i}.npy`)) })).values()];
    outputs.forEach((output, k) => {
      const expected = readNpy(join(dir, `${name}.expected${i}.${k}.npy`));
      expect(output.shape, `${name} case ${i} output ${k}`).toEqual(expected.shape);
      expect(worstDifference(output.toNumbers(), expected.toNumbers()), `${name} case ${i} output ${k}`).toBeLessThan(1e-5);
    });
  }
}

function padsOf(model: Model): Array<'constant' | 'computed'> {
  return [...model.graph.nodes()].filter((node) => node.op === 'onnx.Pad').map((node) => (node.inputs[1]?.isConstant ? 'constant' : 'computed'));
}

const IMPORTS: Array<{ name: string; shape: Dim[]; pads: Array<'constant' | 'computed'>; ops?: string[] }> = [
  { name: 'window_traced', shape: ['batch', 10, 12, 4], pads: ['constant'], ops: ['onnx.Pad'] },
  { name: 'window_scripted', shape: ['batch', 10, 12, 4], pads: ['constant'] },
  { name: 'window_small', shape: [1, 5, 6, 4], pads: ['constant'] },
  { name: 'pad_to_window', shape: ['batch', 'H', 'W', 4], pads: ['computed'] },
  { name: 'mha_traced', shape: ['batch', 'length', 16], pads: [], ops: ['onnx.Softmax'] },
  { name: 'mha_weights_traced', shape: ['batch', 'length', 16], pads: [], ops: ['onnx.Softmax', 'onnx.ReduceMean'] },
];

describe.each(IMPORTS)('$name', ({ name, shape, pads, ops }) => {
  it(`imports at [${shape.join(', ')}] with ${pads.length ? `${pads.join(', ')} pads` : 'no pad'}; ORT matches torch on every case; written back, torch runs it`, async () => {
    const model = readTorchScript(join(dir, `${name}.pt`), { inputs: [{ shape }] });
    expect(padsOf(model)).toEqual(pads);
    const present = new Set([...model.graph.nodes()].map((node) => node.op));
    for (const op of ops ?? []) expect(present.has(op), op).toBe(true);
    await expectOrtMatchesTorch(name, model, 'imported');
    writeTorchScript(model, join(dir, `${name}.rewritten.pt`));
    const runs = cases[name]!.map((_, i) => ({ inputs: [join(dir, `${name}.input${i}.npy`)], out: join(dir, `${name}.rewritten${i}`) }));
    writeFileSync(join(dir, `${name}.manifest.json`), JSON.stringify([{ archive: join(dir, `${name}.rewritten.pt`), runs }]));
    runPython(join(here, 'torch/run-many.py'), [join(dir, `${name}.manifest.json`)]);
    cases[name]!.forEach((_, i) => {
      model.graph.outputs.forEach((__, k) => {
        const written = readNpy(join(dir, `${name}.rewritten${i}.${k}.npy`)).toNumbers();
        expect(worstDifference(written, readNpy(join(dir, `${name}.expected${i}.${k}.npy`)).toNumbers()), `${name} rewritten case ${i} output ${k}`).toBeLessThan(1e-5);
      });
    });
    // The archive modelpass wrote reads back into modelpass with the same pads.
    const reread = readTorchScript(join(dir, `${name}.rewritten.pt`), { inputs: [{ shape }] });
    expect(padsOf(reread)).toEqual(pads);
    await expectOrtMatchesTorch(name, reread, 'reread');
  }, 120_000);
});

it('a traced window pad with H and W known folds its size arithmetic: no Mod/Sub on sizes is left', () => {
  const model = readTorchScript(join(dir, 'window_traced.pt'), { inputs: [{ shape: [1, 10, 12, 4] }] });
  const sizeOps = [...model.graph.nodes()].filter((node) => ['onnx.Mod', 'onnx.Sub', 'onnx.Shape', 'onnx.Gather'].includes(node.op)).map((node) => node.op);
  expect(sizeOps).toEqual([]);
  const pad = [...model.graph.nodes()].find((node) => node.op === 'onnx.Pad')!;
  // [B, H, W, C] with 10×12 padded to 14×14: 4 rows at the bottom, 2 columns at the right.
  expect(pad.inputs[1]!.constant!.toNumbers()).toEqual([0, 0, 0, 0, 0, 4, 2, 0]);
});

it('input shapes that do not fit the weights are refused at the node, not written into a model no engine runs', () => {
  // The window model's Linear takes 4 features; 5 are given.
  expect(() => readTorchScript(join(dir, 'window_scripted.pt'), { inputs: [{ shape: [1, 10, 12, 5] }] })).toThrow(/window_scripted\.pt:code\/.*the input shapes given \(x=1,10,12,5\) do not fit the model: /);
});
