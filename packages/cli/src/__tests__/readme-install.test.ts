import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './run-cli.js';

// The root README's tarball install is copied by people installing modelpass outside the clone:
// every folder it packs must be a local path (npm reads a bare `packages/ir` as the GitHub repo
// packages/ir) and the set must hold every @modelpass package the CLI needs, or the install asks
// the registry for the missing one (E404).
const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const packCommand = /^npm pack ((?:[^\n]*\\\n)*[^\n]*)$/m.exec(readme)?.[1]?.replace(/\\\n/g, ' ') ?? '';
const packed = packCommand.split(/\s+/).filter((word) => word !== '' && !word.startsWith('--') && !word.startsWith('~'));

function packageJson(folder: string): { name: string; dependencies?: Record<string, string> } {
  return JSON.parse(readFileSync(join(repoRoot, folder, 'package.json'), 'utf8'));
}

describe("the root README's tarball install", () => {
  it('packs local folders only', () => {
    expect(packed.length).toBeGreaterThan(5);
    for (const folder of packed) expect(folder, folder).toMatch(/^\.\/packages\/[a-z-]+$/);
  });

  it('packs every @modelpass package the CLI depends on, directly or not', () => {
    const names = new Map(packed.map((folder) => [packageJson(folder).name, folder]));
    const byName = (name: string) => `./packages/${name.replace('@modelpass/', '')}`;
    const needed = new Set<string>(['@modelpass/cli']);
    for (const name of needed) {
      for (const dependency of Object.keys(packageJson(byName(name)).dependencies ?? {})) {
        if (dependency.startsWith('@modelpass/')) needed.add(dependency);
      }
    }
    expect([...needed].filter((name) => !names.has(name))).toEqual([]);
  });

  it('skips the CUDA download of onnxruntime-node on every install line', () => {
    const installs = readme.split('\n').filter((line) => /npm install (-g |~\/modelpass-tarballs)/.test(line));
    expect(installs.length).toBeGreaterThan(1);
    for (const line of installs) expect(line).toContain('ONNXRUNTIME_NODE_INSTALL=skip');
  });
});
