/**
 * Real models: the Fashion-MNIST CNN and MLP fixtures pruned 50% unstructured and 2:4, exported to
 * ONNX, checked by ONNX's checker (python3-onnx), run by ONNX Runtime on 2,000 test images.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createOpRegistry } from '@modelpass/ops';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { disposeSharedOrtRunner, evaluateAccuracy, FASHION_MNIST_DIR, loadFashionMnist } from '@modelpass/runtime';
import { formatSparsityReport, prunePasses, sparsityReport } from '@modelpass/prune';

const root = fileURLToPath(new URL('../../../../fixtures/models/', import.meta.url));
const SAMPLES = 2000;
if (!existsSync(FASHION_MNIST_DIR)) throw new Error(`Fashion-MNIST is missing at ${FASHION_MNIST_DIR}: run 'npm run setup' (tools/setup.sh installs Debian's dataset-fashion-mnist); this referee is never skipped`);
const work = mkdtempSync(join(tmpdir(), 'modelpass-prune-'));
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await disposeSharedOrtRunner();
});

function onnxChecker(path: string, fullCheck = true): void {
  const check = `import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=${fullCheck ? 'True' : 'False'})`;
  execFileSync('/usr/bin/python3', ['-c', check, path], { stdio: 'pipe' });
}

async function pruneFile(name: string, pipeline: string, out: string) {
  const model = readOnnx(join(root, name, 'model.onnx'));
  const environment = new PassEnvironment({ ops: createOpRegistry() });
  environment.passes.register(prunePasses, '@modelpass/prune');
  await new PassManager({ environment }).run(model, pipeline); // verify-each on
  const report = sparsityReport(model);
  writeOnnx(model, out);
  // ONNX's shape inference types a sparse initializer as sparse_tensor, which Gemm/Conv refuse, so
  // the full check (strict inference) rejects what ONNX Runtime runs: only the structural check then.
  onnxChecker(out, !pipeline.includes('sparse-initializers=true'));
  return report;
}

const dataset = loadFashionMnist({ split: 'test' });
const accuracyOf = async (path: string) => (await evaluateAccuracy(path, dataset, { limit: SAMPLES })).accuracy;

describe('pruning the Fashion-MNIST fixtures', () => {
  for (const name of ['fashion-cnn', 'fashion-mlp']) {
    it(`${name}: 50% unstructured and 2:4 stay valid, run in ORT and keep accuracy within bounds`, async () => {
      const original = await accuracyOf(join(root, name, 'model.onnx'));
      const magnitudePath = join(work, `${name}-magnitude.onnx`);
      const magnitude = await pruneFile(name, 'prune-magnitude{sparsity=0.5}', magnitudePath);
      const nmPath = join(work, `${name}-2-4.onnx`);
      const nm = await pruneFile(name, 'prune-nm{n=2 m=4}', nmPath);
      const afterMagnitude = await accuracyOf(magnitudePath);
      const afterNm = await accuracyOf(nmPath);
      console.log(`${name} on ${SAMPLES} test images: original ${(100 * original).toFixed(2)}%, 50% unstructured ${(100 * afterMagnitude).toFixed(2)}%, 2:4 ${(100 * afterNm).toFixed(2)}%`);
      console.log(formatSparsityReport(magnitude));
      // the first and last layer stay dense (default); every layer between is exactly 50% zero
      const middle = (layers: typeof magnitude.layers) => layers.slice(1, -1);
      expect(magnitude.layers[0]!.sparsity).toBeLessThan(0.05);
      for (const layer of middle(magnitude.layers)) expect(layer.zeros, layer.node).toBe(Math.round(layer.elements / 2));
      for (const layer of middle(nm.layers)) expect(layer.zeros, layer.node).toBe(layer.elements / 2);
      expect(original).toBeGreaterThan(0.85);
      expect(afterMagnitude).toBeGreaterThan(original - 0.03);
      expect(afterMagnitude).toBeLessThan(original + 0.01);
      expect(afterNm).toBeGreaterThan(original - 0.06);
      expect(afterNm).toBeLessThan(original + 0.01);
    }, 120_000);
  }

  it('fashion-mlp at 90% with sparse initializers: a smaller file that the checker and ORT accept, same predictions as dense zeros', async () => {
    const densePath = join(work, 'mlp-90-dense.onnx');
    const sparsePath = join(work, 'mlp-90-sparse.onnx');
    await pruneFile('fashion-mlp', 'prune-magnitude{sparsity=0.9 skip-first-last=false}', densePath);
    const report = await pruneFile('fashion-mlp', 'prune-magnitude{sparsity=0.9 skip-first-last=false sparse-initializers=true}', sparsePath);
    expect(report.layers.every((l) => l.storedSparse)).toBe(true);
    expect(statSync(sparsePath).size).toBeLessThan(0.5 * statSync(densePath).size);
    const dense = await evaluateAccuracy(densePath, dataset, { limit: 500 });
    const sparse = await evaluateAccuracy(sparsePath, dataset, { limit: 500 });
    expect(sparse.correct).toBe(dense.correct);
    expect(readOnnx(sparsePath).graph.constants.filter((v) => v.sparseConstant).length).toBe(3);
    expect(() => onnxChecker(sparsePath, true)).toThrow(/B typestr: T, has unsupported type: sparse_tensor\(float\)/); // the documented limit
  }, 120_000);
});
