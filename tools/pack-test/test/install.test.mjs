/**
 * modelpass leaves the repository: every publishable package is `npm pack`ed, the tarballs are
 * installed into an empty folder outside the repository (the npm cache serves third-party
 * packages), and there a stranger's uses are tried: the `modelpass` command, a `convert` with a
 * pipeline (checked by ONNX Runtime through `modelpass compare`), a plugin package that has
 * `@modelpass/pass-manager` as a peer dependency, and TypeScript importing every package under
 * NodeNext, target ESNext and `skipLibCheck: false`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { packPackages, publishablePackages, REPO_ROOT, userEnvironment } from '../lib/packages.mjs';

const temp = realpathSync(mkdtempSync(join(tmpdir(), 'modelpass-pack-test-')));
const tarballFolder = join(temp, 'tarballs');
const project = join(temp, 'project');
const packages = publishablePackages();
const passManagerVersion = packages.find((item) => item.name === '@modelpass/pass-manager').version;
const fixture = join(REPO_ROOT, 'fixtures/models/fashion-cnn');
const rootVersion = (name) => JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;

after(() => rmSync(temp, { recursive: true, force: true }));

function run(command, args, cwd = project) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 240_000, env: userEnvironment() });
  if (result.error) throw result.error;
  return result;
}

const output = (result) => `exit ${result.status}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;

/** A third-party plugin as its author would publish it: only a peer dependency on the pass manager. */
function writePluginPackage(folder) {
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(folder, 'package.json'),
    JSON.stringify(
      {
        name: 'modelpass-plugin-count-ops',
        version: '1.0.0',
        type: 'module',
        exports: './index.js',
        files: ['index.js'],
        keywords: ['modelpass-plugin'],
        peerDependencies: { '@modelpass/pass-manager': `^${passManagerVersion}` },
      },
      null,
      2,
    ),
  );
  writeFileSync(
    join(folder, 'index.js'),
    `import { definePass, definePlugin, option, PASS_MANAGER_VERSION } from '@modelpass/pass-manager';

const countOps = definePass({
  name: 'count-ops',
  summary: 'Count the nodes of one op (changes nothing)',
  options: { op: option.string({ default: 'onnx.Relu', help: 'the op to count' }) },
  statistics: ['nodes-counted'],
  run(model, context) {
    context.statistic('nodes-counted', [...model.graph.allNodesOf(context.options.op)].length);
    return context.preserveAll();
  },
});

export default definePlugin({ name: 'modelpass-plugin-count-ops', version: '1.0.0', passManager: '^${passManagerVersion}', passes: [countOps] });
`,
  );
}

const TSCONFIG = {
  compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ESNext', strict: true, skipLibCheck: false, noEmit: true, types: ['node'] },
};

/** Uses the library the way a TypeScript project would: every package, a pass, a plugin, the IR. */
const TYPED_USE = `import { readFile } from 'node:fs/promises';
import { ModelpassError, type Model, type UseSet } from '@modelpass/ir';
import { definePass, definePlugin, option, runPipeline } from '@modelpass/pass-manager';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import * as ops from '@modelpass/ops';
import * as transforms from '@modelpass/transforms';
import * as runtime from '@modelpass/runtime';
import * as cli from '@modelpass/cli';
import * as testing from '@modelpass/testing';
import * as prune from '@modelpass/prune';
import * as createPass from '@modelpass/create-pass';

const relus = definePass({
  name: 'count-relus',
  summary: 'count Relu nodes',
  options: { op: option.string({ default: 'onnx.Relu' }) },
  statistics: ['relus'],
  run(model: Model, context) {
    const op: string = context.options.op;
    for (const node of model.graph.allNodesOf(op)) {
      const uses: UseSet = node.outputs[0]!.uses;
      context.statistic('relus', uses.size > 0 ? 1 : 0);
    }
    return context.preserveAll();
  },
});
export const plugin = definePlugin({ name: 'typed-plugin', version: '1.0.0', passManager: '*', passes: [relus] });

export async function roundTrip(path: string): Promise<Uint8Array> {
  const model = decodeOnnx(await readFile(path));
  return encodeOnnx(model);
}
export const surface = [ModelpassError, runPipeline, ops, transforms, runtime, cli, testing, prune, createPass];
`;

before(() => {
  mkdirSync(tarballFolder, { recursive: true });
  mkdirSync(project, { recursive: true });
  const tarballs = packPackages(packages, tarballFolder);
  writePluginPackage(join(temp, 'plugin'));
  const plugin = run('npm', ['pack', join(temp, 'plugin'), '--pack-destination', tarballFolder, '--silent'], temp);
  assert.equal(plugin.status, 0, output(plugin));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'stranger-project', private: true, type: 'module' }, null, 2));
  const install = run('npm', [
    'install', '--prefer-offline', '--no-audit', '--no-fund',
    ...tarballs.values(), join(tarballFolder, 'modelpass-plugin-count-ops-1.0.0.tgz'),
    `typescript@${rootVersion('typescript')}`, `@types/node@${rootVersion('@types/node')}`,
  ]);
  assert.equal(install.status, 0, output(install));
});

test('npx modelpass --help runs the installed command', () => {
  const help = run('npx', ['--no-install', 'modelpass', '--help']);
  assert.equal(help.status, 0, output(help));
  assert.match(help.stdout, /usage: modelpass <command>/);
  assert.match(help.stdout, /convert/);
});

test('convert with a pipeline writes a model ONNX Runtime computes the same outputs from', () => {
  const converted = join(project, 'cnn-fused.onnx');
  const convert = run('npx', ['--no-install', 'modelpass', 'convert', join(fixture, 'model.onnx'), '-o', converted, '--pipeline', 'fixed-point(canonicalize,fuse-bn),dce', '--statistics']);
  assert.equal(convert.status, 0, output(convert));
  assert.match(convert.stderr, /\(S\)\s+2 nodes-fused/);
  const inspect = run('npx', ['--no-install', 'modelpass', 'inspect', converted]);
  assert.equal(inspect.status, 0, output(inspect));
  assert.doesNotMatch(inspect.stdout, /BatchNormalization/);
  const compare = run('npx', ['--no-install', 'modelpass', 'compare', join(fixture, 'model.onnx'), converted, '--inputs', join(fixture, 'test_data_set_0')]);
  assert.equal(compare.status, 0, output(compare));
  assert.match(compare.stdout, /verdict: agree/);
});

test('a plugin package with @modelpass/pass-manager as a peer dependency loads by name and runs', () => {
  const peers = run('npm', ['ls', '@modelpass/pass-manager', '--all', '--parseable']);
  assert.equal(peers.status, 0, output(peers));
  assert.equal(peers.stdout.trim().split('\n').length, 1, `one copy of @modelpass/pass-manager expected:\n${peers.stdout}`);
  const convert = run('npx', ['--no-install', 'modelpass', 'convert', join(fixture, 'model.onnx'), '-o', join(project, 'cnn-counted.onnx'), '--plugin', 'modelpass-plugin-count-ops', '--pipeline', 'count-ops{op=onnx.Relu}', '--statistics']);
  assert.equal(convert.status, 0, output(convert));
  assert.match(convert.stderr, /count-ops\n\s+\(S\) 3 nodes-counted/);
});

test('TypeScript (NodeNext, target ESNext, skipLibCheck off) type-checks a file using every package', () => {
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ ...TSCONFIG, include: ['use-modelpass.ts'] }, null, 2));
  writeFileSync(join(project, 'use-modelpass.ts'), TYPED_USE);
  const check = run(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
  assert.equal(check.status, 0, output(check));
});

/** A CommonJS caller (a framework that still loads plugins with require): Node ≥ 20.19 loads our ES modules through `default`. */
const COMMONJS_USE = `const names = ['ir', 'ops', 'pass-manager', 'onnx', 'transforms', 'runtime', 'runtime/reference', 'prune', 'quantize', 'train',
  'report', 'tflite', 'torchscript', 'distributed', 'cli', 'testing', 'create-pass'];
for (const name of names) require('@modelpass/' + name);
const { GraphBuilder, tensorType, Model } = require('@modelpass/ir');
const { runPipeline, PassEnvironment, PassRegistry } = require('@modelpass/pass-manager');
const { transformPasses } = require('@modelpass/transforms');
const b = new GraphBuilder();
const x = b.input('x', tensorType('float32', [1, 4]));
b.output(b.op1('onnx.Identity', [b.op1('onnx.Relu', [x])], {}, { outputs: ['y'] }));
const model = b.model({ onnx: 17 });
const environment = new PassEnvironment({ passes: new PassRegistry(transformPasses, '@modelpass/transforms') });
runPipeline(model, 'canonicalize', { environment }).then(async () => {
  const imported = await import('@modelpass/ir');
  console.log('ops after canonicalize:', model.graph.nodeList().map((node) => node.op).join(' '));
  console.log('one module instance: ' + String(imported.Model === Model));
});
`;

test('require() from a CommonJS file loads every package and runs a pipeline (one module instance with import)', () => {
  writeFileSync(join(project, 'use-modelpass.cjs'), COMMONJS_USE);
  const result = run(process.execPath, ['use-modelpass.cjs']);
  assert.equal(result.status, 0, output(result));
  assert.match(result.stdout, /ops after canonicalize: onnx\.Relu\n/);
  assert.match(result.stdout, /one module instance: true/);
});

/** Every TypeScript block of a package README that imports from `@modelpass/…`, as a file of its own. */
function readmeExamples() {
  const examples = [];
  for (const item of packages) {
    const readme = join(item.folder, 'README.md');
    let lines;
    try { lines = readFileSync(readme, 'utf8').split('\n'); } catch { continue; }
    for (let i = 0; i < lines.length; i++) {
      if (!/^```(ts|typescript)\s*$/.test(lines[i])) continue;
      const start = i + 1;
      while (i + 1 < lines.length && lines[i + 1] !== '```') i++;
      const code = lines.slice(start, i + 1).join('\n');
      if (/from '@modelpass\//.test(code)) examples.push({ name: `readme-${item.name.split('/')[1]}-L${start + 1}.ts`, code });
    }
  }
  return examples;
}
/** Errors that mean the README names something the package does not export (the blocks are fragments: free names are fine). */
const EXPORT_ERRORS = /error TS(2305|2307|2614|2724|2459|2460)\b.*/g;

test("every README example's imports resolve through the packages' exports (TypeScript, NodeNext)", () => {
  const examples = readmeExamples();
  assert.ok(examples.length >= 20, `README examples found: ${examples.length}`);
  for (const example of examples) writeFileSync(join(project, example.name), example.code + '\n');
  // the control: a name no package exports must be reported, or the check proves nothing
  writeFileSync(join(project, 'readme-control.ts'), "import { notExportedAnywhere } from '@modelpass/ir';\nexport { notExportedAnywhere };\n");
  writeFileSync(join(project, 'tsconfig.readme.json'), JSON.stringify({ ...TSCONFIG, include: ['readme-*.ts'] }, null, 2));
  const check = run(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.readme.json']);
  const exportErrors = [...check.stdout.matchAll(EXPORT_ERRORS)].map((match) => match[0]).filter((line) => !/Cannot find module '\./.test(line));
  const [control, ...rest] = [exportErrors.filter((line) => line.includes('notExportedAnywhere')), exportErrors.filter((line) => !line.includes('notExportedAnywhere'))];
  assert.equal(control.length, 1, output(check));
  assert.deepEqual(rest[0], []);
});

test('…and the same check fails on a type error against the library (the check is real)', () => {
  writeFileSync(join(project, 'tsconfig.wrong.json'), JSON.stringify({ ...TSCONFIG, include: ['wrong.ts'] }, null, 2));
  writeFileSync(join(project, 'wrong.ts'), `import type { Value } from '@modelpass/ir';\nexport const size = (value: Value): string => value.uses.size;\n`);
  const check = run(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.wrong.json']);
  assert.notEqual(check.status, 0, output(check));
  assert.match(check.stdout, /wrong\.ts\(2,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
});
