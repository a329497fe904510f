/**
 * Archives of real architectures made by Debian torch through tools/fixtures/make_torchscript.py
 * (scripted, traced, torch's outputs, and a torch.onnx.export ONNX file), in a fresh temp folder.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPython } from './torch-fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../../../../..');
export const MAKE_TORCHSCRIPT = join(repoRoot, 'tools/fixtures/make_torchscript.py');

/** Every architecture the fixture script knows (fashion fixtures, torchvision family, sequence models). */
export const TORCHVISION_SAMPLE_POOL = ['resnet18', 'mobilenet_v2', 'mobilenet_v3_small', 'squeezenet1_1', 'shufflenet_v2_x0_5', 'efficientnet_b0', 'regnet_y_400mf', 'mnasnet0_5'];

/** `count` names of `pool` picked by `seed` (a small LCG, so a failing seed reproduces). */
export function seededSample(pool: readonly string[], count: number, seed: number): string[] {
  const left = [...pool];
  const picked: string[] = [];
  let state = (seed >>> 0) || 1;
  while (picked.length < count && left.length > 0) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    picked.push(left.splice(state % left.length, 1)[0]!);
  }
  return picked;
}

export interface ModelFixtures {
  dir: string;
  archive(name: string, mode: 'scripted' | 'traced'): string;
  input(name: string): string;
  expected(name: string, mode: 'scripted' | 'traced'): string;
  onnx(name: string): string;
  modes(name: string): string[];
  cleanup(): void;
}

export function makeModelFixtures(names: readonly string[], timeoutMs = 600_000): ModelFixtures {
  const dir = mkdtempSync(join(tmpdir(), 'modelpass-torchscript-models-'));
  runPython(MAKE_TORCHSCRIPT, ['--out', dir, '--size', '48', '--onnx', ...names], timeoutMs);
  return {
    dir,
    archive: (name, mode) => join(dir, `${name}.${mode}.pt`),
    input: (name) => join(dir, `${name}.input.npy`),
    expected: (name, mode) => join(dir, `${name}.${mode}.expected.npy`),
    onnx: (name) => join(dir, `${name}.onnx`),
    modes: (name) => (JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as { modes: string[] }).modes,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
