/**
 * Runs `scripts/torch-reference-grads.py` once for several Fashion-MNIST fixtures: each fixture's
 * `test_data_set_0` batch and the given labels are written as .npy files, and torch writes its loss
 * and gradients (and, with `TORCH_BN_TRAINING=1`, running statistics) under `<work>/<fixture>/`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { loadTestDataSet, writeNpy } from '@modelpass/runtime';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const script = fileURLToPath(new URL('../../scripts/torch-reference-grads.py', import.meta.url));

/** The folder of a fixture under `fixtures/models`. */
export function fixtureFolder(name: string): string {
  return join(repoRoot, 'fixtures/models', name);
}

/** Runs torch on every fixture in one Python start; returns the work folder holding its outputs. */
export async function torchReference(fixtures: readonly string[], labels: Tensor, prefix: string, env: Record<string, string> = {}): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const args: string[] = [];
  for (const name of fixtures) {
    const folder = fixtureFolder(name);
    const data = await loadTestDataSet(join(folder, 'test_data_set_0'), await readOnnx(join(folder, 'model.onnx')));
    writeNpy([...data.inputs.values()][0]!, join(work, `${name}-input.npy`));
    writeNpy(labels, join(work, `${name}-labels.npy`));
    args.push(join(folder, 'model.onnx'), join(work, `${name}-input.npy`), join(work, `${name}-labels.npy`), join(work, name));
  }
  execFileSync('/usr/bin/python3', [script, ...args], { stdio: 'pipe', env: { ...process.env, ...env } });
  return work;
}
