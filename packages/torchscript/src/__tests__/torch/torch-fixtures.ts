/**
 * Runs Debian torch (`/usr/bin/python3`, see tools/setup.sh) to make archives and to check what
 * this package writes. A missing torch fails the test with the setup command, never skips it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3';
const here = dirname(fileURLToPath(import.meta.url));

export function runPython(script: string, args: string[], timeoutMs = 120_000): string {
  try {
    return execFileSync(PYTHON, [script, ...args], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '');
    if (/No module named 'torch'/.test(stderr)) {
      throw new Error('Debian torch is missing: run tools/setup.sh (apt-get install -y --no-install-recommends python3-torch)');
    }
    throw new Error(`${script} failed: ${stderr || String(error)}`);
  }
}

export interface TensorRecord {
  dtype: string;
  shape: number[];
  values: number[];
}

export interface TorchFixtures {
  dir: string;
  path(name: string): string;
  tensors(name: 'scripted' | 'traced' | 'state_dict'): Record<string, TensorRecord>;
  cleanup(): void;
}

/** Makes scripted.pt, traced.pt, state_dict.pt (and torch's values) in a fresh temp folder. */
export function makeTorchFixtures(): TorchFixtures {
  const dir = mkdtempSync(join(tmpdir(), 'modelpass-torchscript-'));
  runPython(join(here, 'make-archives.py'), [dir]);
  return {
    dir,
    path: (name) => join(dir, name),
    tensors: (name) => JSON.parse(readFileSync(join(dir, `${name}.tensors.json`), 'utf8')) as Record<string, TensorRecord>,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Loads `archive` with torch.jit.load, runs it on `input` (.npy), saves the output as .npy; prints nothing. */
export function torchRun(archive: string, input: string, output: string): void {
  runPython(join(here, 'run-archive.py'), [archive, input, output]);
}
