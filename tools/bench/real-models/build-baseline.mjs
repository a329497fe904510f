#!/usr/bin/env node
// Builds @modelpass/ops as it was at a git commit, for `run.mjs --baseline`: the commit's
// packages/ops/src is extracted under tmp/ops-baseline/<commit>/ (tmp/ is git-ignored and inside the
// repository, so the build resolves @modelpass/ir from the workspace) and compiled with tsc.
// Prints the path of the built entry point.
//
//   node tools/bench/real-models/build-baseline.mjs <commit>
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const commit = process.argv[2];
if (!commit) throw new Error('usage: build-baseline.mjs <commit>');
const sha = execFileSync('git', ['rev-parse', '--short=12', commit], { cwd: ROOT, encoding: 'utf8' }).trim();
const dir = join(ROOT, 'tmp', 'ops-baseline', sha);
const entry = join(dir, 'dist', 'index.js');
if (!existsSync(entry)) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = execFileSync('git', ['archive', sha, 'packages/ops/src'], { cwd: ROOT, maxBuffer: 1 << 28 });
  execFileSync('tar', ['-x', '--strip-components=2', '-C', dir], { input: archive });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'ops-baseline', type: 'module', private: true }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: relative(dir, join(ROOT, 'tsconfig.base.json')),
      compilerOptions: { rootDir: 'src', outDir: 'dist', composite: false, declaration: false, declarationMap: false, incremental: false },
      include: ['src'],
      exclude: ['src/**/__tests__/**'],
    }),
  );
  execFileSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', dir], { cwd: ROOT, stdio: 'inherit' });
}
console.log(entry);
