/**
 * prune-magnitude and prune-nm on the real small models of ONNX's conformance data (PyTorch-exported
 * Conv1d/2d/3d, grouped and depthwise convs, ConvTranspose, Linear, …; many keep their weights as
 * graph inputs with defaults): the pruned model must run in ONNX Runtime on the recorded inputs
 * with the recorded output shapes, every pruned layer must hold the N:M pattern, and unstructured
 * pruning must hit the exact count.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeOnnx, readOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { disposeSharedOrtRunner, loadTestDataSet, runOrt } from '@modelpass/runtime';
import { findPrunableLayers, forEachGroup, groupLayout, prunePasses, sparsityReport } from '@modelpass/prune';

const DATA = '/usr/share/libonnx-testdata/data/pytorch-converted';
const cases = existsSync(DATA) ? readdirSync(DATA).filter((name) => /Conv|Linear/.test(name) && existsSync(join(DATA, name, 'test_data_set_0'))).sort() : [];
afterAll(() => disposeSharedOrtRunner());

async function pruned(file: string, pipeline: string) {
  const model = readOnnx(file);
  const environment = new PassEnvironment({ ops: createOpRegistry() });
  environment.passes.register(prunePasses, '@modelpass/prune');
  await new PassManager({ environment, onDiagnostic: () => undefined }).run(model, pipeline);
  return model;
}

if (cases.length === 0) throw new Error(`no ONNX conformance cases under ${DATA}: run 'npm run setup' (tools/setup.sh installs Debian's libonnx-testdata); this referee is never skipped`);

describe('pruning the conformance PyTorch models', () => {
  it(`prunes ${cases.length} Conv/ConvTranspose/Linear models, which ORT then runs`, async () => {
    let prunedLayers = 0;
    const skipped: string[] = [];
    for (const name of cases) {
      const file = join(DATA, name, 'model.onnx');
      const set = loadTestDataSet(join(DATA, name, 'test_data_set_0'), readOnnx(file));
      try {
        await runOrt(file, set.inputs);
      } catch {
        skipped.push(name); // ORT 1.30 dropped kernels of some old opsets (Gemm-6): nothing to compare with
        continue;
      }
      const originalLayers = findPrunableLayers(readOnnx(file));
      const magnitude = await pruned(file, 'prune-magnitude{sparsity=0.5 skip-first-last=false}');
      for (const layer of sparsityReport(magnitude).layers) {
        const before = originalLayers.find((l) => l.weight.name === layer.weight)!.tensor.toNumbers().filter((v) => v === 0).length;
        expect(layer.zeros, `${name} ${layer.node}`).toBe(Math.max(before, Math.round(layer.elements / 2)));
        prunedLayers++;
      }
      const nm = await pruned(file, 'prune-nm{skip-first-last=false}');
      for (const layer of findPrunableLayers(nm)) {
        const values = layer.tensor.toNumbers();
        const layout = groupLayout(layer.node, layer.tensor.shape);
        if (layout.segment % 4 !== 0) continue; // left dense, with a warning
        forEachGroup(layout, 4, (indices) => expect(indices.filter((i) => values[i] !== 0).length, `${name} ${layer.node.name}`).toBeLessThanOrEqual(2));
      }
      for (const model of [magnitude, nm]) {
        const outputs = await runOrt(encodeOnnx(model), set.inputs);
        for (const [output, expected] of set.outputs) expect(outputs.get(output)?.shape, `${name} output ${output}`).toEqual(expected.shape);
      }
    }
    console.log(`conformance pytorch-converted: ${cases.length - skipped.length} models pruned and run in ORT (${prunedLayers} layers), ${skipped.length} skipped (ORT cannot run the original): ${skipped.join(', ')}`);
    expect(skipped.length).toBeLessThan(cases.length / 4);
    expect(prunedLayers).toBeGreaterThan(20);
  }, 120_000);
});
