/**
 * s17 issue 12 item 1: torch 1.13's nn.Transformer / nn.TransformerDecoderLayer exported with dynamic axes, given
 * fixed shapes (as `convert --input-shape` does), converts to the same layout as the static export. The dynamic
 * export slices the cross-attention's packed in_proj_weight/bias at bounds computed from Shape(x) and transposes the
 * weight rows at run time; once the bounds fold, each Slice of the weight alone was declined for growth (the other
 * Slice keeps the weight alive), so the two row Transposes per cross-attention stayed and blocked the head split:
 * 6 TRANSPOSEs for the decoder layer (static: 3), 5 for the batch-first nn.Transformer (static: 0). fold-constants
 * now folds the readers of a shared weight together when that does not grow the model. Referees: ONNX Runtime on the
 * dynamic export vs TFLite 2.9 on the .tflite, and the static export's TRANSPOSE count.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tensorType, type Model } from '@modelpass/ir';
import { decodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { compareInRuntimes, legalize, seededTensor } from './tflite-legalize-harness.js';

const PYTHON = '/usr/bin/python3';
const DIR = mkdtempSync(join(tmpdir(), 'tflite-attention-dynamic-axes-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(DIR, { recursive: true, force: true });
});

/** Each model exported twice, static (`<name>.onnx`) and with dynamic axes (`<name>_dyn.onnx`), opset 13. */
const MAKE_MODELS = String.raw`
import sys, os, torch, torch.nn as nn
torch.manual_seed(0)
out = sys.argv[1]
def both(module, args, names, dynamic, name):
    torch.onnx.export(module, args, os.path.join(out, name + '.onnx'), opset_version=13, input_names=names, output_names=['y'])
    torch.onnx.export(module, args, os.path.join(out, name + '_dyn.onnx'), opset_version=13, input_names=names, output_names=['y'], dynamic_axes=dynamic)
class Decoder(nn.Module):
    def __init__(self):
        super().__init__(); self.d = nn.TransformerDecoderLayer(32, 4, 64, dropout=0.0)
    def forward(self, t, m): return self.d(t, m)
both(Decoder().eval(), (torch.randn(5, 3, 32), torch.randn(7, 3, 32)), ['t', 'm'], {'t': {0: 'T', 1: 'B'}, 'm': {0: 'S', 1: 'B'}, 'y': {0: 'T', 1: 'B'}}, 'decoder')
class BatchFirst(nn.Module):
    def __init__(self):
        super().__init__(); self.t = nn.Transformer(32, 4, 1, 1, 64, dropout=0.0, batch_first=True)
    def forward(self, s, t): return self.t(s, t)
both(BatchFirst().eval(), (torch.randn(3, 7, 32), torch.randn(3, 5, 32)), ['s', 't'], {'s': {0: 'B', 1: 'S'}, 't': {0: 'B', 1: 'T'}, 'y': {0: 'B', 1: 'T'}}, 'transformer_bf')
`;

let made = false;
function load(name: string): Model {
  if (!made) execFileSync(PYTHON, ['-c', MAKE_MODELS, DIR], { stdio: 'pipe' });
  made = true;
  return decodeOnnx(readFileSync(join(DIR, `${name}.onnx`)));
}

/** The inputs' and output's symbolic dims set to sizes (what `--input-shape` does to a dynamic export). */
function fixShapes(model: Model, shapes: Readonly<Record<string, readonly number[]>>): Model {
  for (const value of [...model.graph.inputs, ...model.graph.outputs]) {
    const shape = shapes[value.name];
    if (shape && value.type.kind === 'tensor') value.type = tensorType(value.type.dtype, [...shape]);
  }
  return model;
}

function transposeCount(model: Model): number {
  return model.graph.nodeList().filter((node) => node.op === 'tflite.TRANSPOSE').length;
}

const CASES = [
  { name: 'decoder', title: 'nn.TransformerDecoderLayer, sequence first', shapes: { t: [5, 3, 32], m: [7, 3, 32], y: [5, 3, 32] }, static: 3 },
  { name: 'transformer_bf', title: 'nn.Transformer, batch first', shapes: { s: [3, 7, 32], t: [3, 5, 32], y: [3, 5, 32] }, static: 0 },
] as const;

describe('attention exported with dynamic axes, shapes fixed: the static export\'s layout', () => {
  for (const testCase of CASES) {
    it(`${testCase.title}: as many TRANSPOSEs as the static export (${testCase.static}), TFLite agrees with ORT`, async () => {
      const fixed = fixShapes(load(testCase.name), testCase.shapes);
      const converted = fixShapes(load(`${testCase.name}_dyn`), testCase.shapes);
      const reference = fixShapes(load(`${testCase.name}_dyn`), testCase.shapes);
      await legalize(fixed);
      await legalize(converted);
      expect(transposeCount(fixed)).toBe(testCase.static);
      expect(transposeCount(converted)).toBe(testCase.static);
      // No Slice of a weight left: the packed in_proj rows are constants, as in the static export.
      expect(converted.graph.nodeList().filter((node) => node.op === 'tflite.SLICE' || node.op === 'tflite.STRIDED_SLICE').length).toBe(
        fixed.graph.nodeList().filter((node) => node.op === 'tflite.SLICE' || node.op === 'tflite.STRIDED_SLICE').length,
      );
      const feeds = Object.fromEntries(
        reference.graph.inputs.map((input, i) => [input.name, seededTensor((testCase.shapes as Readonly<Record<string, readonly number[]>>)[input.name]!, 11 + i)]),
      );
      const differences = await compareInRuntimes(reference, converted, feeds);
      for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
    }, 120_000);
  }
});
