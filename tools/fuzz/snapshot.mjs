#!/usr/bin/env node
/**
 * Copies the fuzzer, the built packages (package.json + dist) and the seed files into a folder
 * outside the working tree, so a long run is not disturbed by rebuilds of dist/ while it runs:
 *   node tools/fuzz/snapshot.mjs /tmp/fuzz-snap && node /tmp/fuzz-snap/tools/fuzz/run.mjs …
 * Third-party dependencies stay links into the repository's node_modules.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, listFiles } from './lib/seeds.mjs';

const target = process.argv[2];
if (!target) {
  process.stderr.write('usage: node tools/fuzz/snapshot.mjs DIR\n');
  process.exit(2);
}
if (existsSync(target)) rmSync(target, { recursive: true, force: true });
mkdirSync(join(target, 'node_modules', '@modelpass'), { recursive: true });
for (const entry of readdirSync(join(REPO_ROOT, 'node_modules'))) {
  if (entry === '@modelpass' || entry === '.bin') continue;
  symlinkSync(join(REPO_ROOT, 'node_modules', entry), join(target, 'node_modules', entry));
}
for (const name of readdirSync(join(REPO_ROOT, 'packages'))) {
  const from = join(REPO_ROOT, 'packages', name);
  if (!existsSync(join(from, 'dist', 'index.js'))) continue;
  const to = join(target, 'node_modules', '@modelpass', name);
  cpSync(join(from, 'package.json'), join(to, 'package.json'));
  cpSync(join(from, 'dist'), join(to, 'dist'), { recursive: true });
  // Generated code some packages load at run time next to dist (schemas).
  if (existsSync(join(from, 'schema'))) cpSync(join(from, 'schema'), join(to, 'schema'), { recursive: true });
}
cpSync(join(REPO_ROOT, 'tools', 'fuzz'), join(target, 'tools', 'fuzz'), { recursive: true, filter: (src) => !src.startsWith(join(REPO_ROOT, 'tools', 'fuzz', 'out')) });
cpSync(join(REPO_ROOT, 'fixtures', 'models'), join(target, 'fixtures', 'models'), { recursive: true });
// The torchscript parser's seeds (torch-made archives); without them that target has nothing to mutate.
cpSync(join(REPO_ROOT, 'packages', 'torchscript', 'fixtures', 'archive'), join(target, 'packages', 'torchscript', 'fixtures', 'archive'), { recursive: true });
// The passes mode's small torchvision models (the same size cut as lib/targets/passes.mjs).
for (const file of listFiles(join(REPO_ROOT, '.fixtures-cache', 'torchvision'), (n) => n.endsWith('.onnx'), 6 * 1024 * 1024)) {
  cpSync(file, join(target, file.slice(REPO_ROOT.length)));
}
for (const file of listFiles(join(REPO_ROOT, 'packages'), (n) => n.endsWith('.mpir'), 512 * 1024)) {
  cpSync(file, join(target, file.slice(REPO_ROOT.length)));
}
process.stdout.write(`snapshot in ${target}: run node ${join(target, 'tools/fuzz/run.mjs')} …\n`);
