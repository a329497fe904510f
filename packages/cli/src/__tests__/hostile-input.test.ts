/**
 * Hostile and broken input against the built CLI, spawned as a user would run it, on the real
 * filesystem: escape sequences in model strings, plugins a reproducer names, `.npy` files that lie
 * about their size, folders / FIFOs / missing files where a model belongs, outputs into missing
 * folders and onto a full disk, hand-forged plugin objects.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, repoRoot, spawnCli } from './run-cli.js';

const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');
const ESC = '\u001b';
let work: string;

beforeAll(() => {
  expect(existsSync(binPath), `${binPath} is missing: build the CLI first (npx nx run @modelpass/cli:build)`).toBe(true);
  work = mkdtempSync(join(tmpdir(), 'modelpass-hostile-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Debian's Python with ONNX and numpy (`python3` on PATH is another interpreter). */
function python(code: string, args: readonly string[] = []): void {
  execFileSync('/usr/bin/python3', ['-c', code, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Every character a terminal would act on: C0 except newline and tab, DEL, C1. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('escape sequences in model strings never reach the terminal raw', () => {
  const title = `${ESC}]0;pwned\u0007`;
  const clear = `${ESC}[2J${ESC}[H`;
  const evilProducer = `${title}${clear}tool\u007f\u009b31m`;
  let evil: string;

  beforeAll(() => {
    evil = join(work, 'evil.onnx');
    python(
      `import sys, onnx
from onnx import helper, TensorProto
esc = '\\x1b'
node = helper.make_node('Relu', ['x'], ['y'], name=esc + '[2Jrelu', doc_string=esc + ']0;doc\\x07')
graph = helper.make_graph([node], 'g' + esc + '[31m', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [2])], [helper.make_tensor_value_info('y', TensorProto.FLOAT, [2])])
model = helper.make_model(graph, producer_name=sys.argv[2], opset_imports=[helper.make_opsetid('', 13)])
helper.set_model_props(model, {'note': esc + ']0;meta\\x07'})
onnx.save(model, sys.argv[1])`,
      [evil, evilProducer],
    );
  });

  it('inspect shows them as \\u escapes and keeps the data exact in --json', () => {
    const human = spawnCli(['inspect', evil]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).not.toMatch(CONTROL);
    expect(human.stdout).toContain('\\u001b]0;pwned\\u0007\\u001b[2J\\u001b[Htool\\u007f\\u009b31m');
    const json = spawnCli(['inspect', evil, '--json']);
    expect(json.code).toBe(0);
    expect(json.stdout).not.toMatch(CONTROL);
    expect(JSON.parse(json.stdout).producer).toBe(evilProducer);
  });

  it('errors naming a file or value escape them too', () => {
    const name = join(work, `${title}missing.onnx`);
    const missing = spawnCli(['inspect', name]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).not.toMatch(CONTROL);
    expect(missing.stderr).toContain('\\u001b]0;pwned\\u0007missing.onnx');
    // A pipeline typo echoes the pass name given on the command line.
    const typo = spawnCli(['convert', evil, '-o', join(work, 'never.onnx'), '--pipeline', `dce,${ESC}[2Jx`]);
    expect(typo.code).toBe(1);
    expect(typo.stderr).not.toMatch(CONTROL);
    expect(typo.stderr).toContain('\\u001b[2Jx');
  });

  it('convert and compare print nothing raw either', () => {
    const out = join(work, 'evil-copy.mpir');
    const convert = spawnCli(['convert', evil, '-o', out, '--statistics', '--print-ir-after-all', '--pipeline', 'dce']);
    expect(convert.code, convert.stderr).toBe(0);
    expect(convert.stderr + convert.stdout).not.toMatch(CONTROL);
    const compare = spawnCli(['compare', evil, evil]);
    expect(compare.code, compare.stderr).toBe(0);
    expect(compare.stdout + compare.stderr).not.toMatch(CONTROL);
  });
});

describe('modelpass replay runs no plugin code without --allow-plugins', () => {
  it('lists the plugins and exits 2; with the flag it imports them and replays', () => {
    const pluginDir = join(repoRoot, 'packages/cli/tmp', `replay-plugin-${process.pid}`);
    mkdirSync(pluginDir, { recursive: true });
    const marker = join(work, 'plugin-code-ran');
    try {
      writeFileSync(
        join(pluginDir, 'side-effect.mjs'),
        `import { writeFileSync } from 'node:fs';
import { definePass, definePlugin } from '@modelpass/pass-manager';
writeFileSync(${JSON.stringify(marker)}, 'imported');
export default definePlugin({ name: 'side-effect', version: '1.0.0', passManager: '^0.1.0',
  passes: [definePass({ name: 'fail', summary: 'always fails', run() { throw new Error('fails on purpose'); } })] });
`,
      );
      const reproducer = join(work, 'repro-side-effect');
      const failed = spawnCli(['convert', cnn, '-o', join(work, 'never.onnx'), '--plugin', join(pluginDir, 'side-effect.mjs'), '--pipeline', 'fail', '--reproducer', reproducer]);
      expect(failed.code).toBe(1);
      rmSync(marker, { force: true });

      const refused = spawnCli(['replay', reproducer]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/names 1 plugin; loading it runs its code/);
      expect(refused.stderr).toContain(`'side-effect'@1.0.0 from ${join(pluginDir, 'side-effect.mjs')}`);
      expect(refused.stderr).toContain('--allow-plugins');
      expect(existsSync(marker)).toBe(false);

      const allowed = spawnCli(['replay', reproducer, '--allow-plugins']);
      expect(allowed.code).toBe(1);
      expect(allowed.stderr).toMatch(/pass 'fail' from plugin 'side-effect'@1\.0\.0 failed: fails on purpose/);
      expect(existsSync(marker)).toBe(true);
    } finally {
      rmSync(pluginDir, { recursive: true, force: true });
    }
  }, 180_000); // three CLI processes: 60 s was too little on a loaded 2-core machine
});

/** A `.npy` file of `dataBytes` zero bytes after a version 1.0 header `dict`. */
function npyFile(path: string, dict: string, dataBytes = 0): void {
  let header = dict;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const bytes = Buffer.alloc(10 + header.length + dataBytes);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(bytes);
  bytes.writeUInt16LE(header.length, 8);
  bytes.write(header, 10, 'latin1');
  writeFileSync(path, bytes);
}

describe('.npy files that claim more than they hold', () => {
  const cases: [string, string, RegExp][] = [
    ['zero-width strings', "{'descr': '<U0', 'fortran_order': False, 'shape': (300000000,), }", /zero-width string dtype 'U0' for 300000000 elements/],
    ['one-character strings', "{'descr': '<U1', 'fortran_order': False, 'shape': (300000000,), }", /data is shorter than its shape says in NumPy file \(expected 1200000000 bytes for U1\[300000000\], got 0 bytes\)/],
    ['floats', "{'descr': '<f4', 'fortran_order': False, 'shape': (300000000, 1, 28, 28), }", /data is shorter than its shape says/],
    ['an impossible shape', "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", /more elements than any file can hold/],
  ];
  for (const [what, dict, message] of cases) {
    it(`${what}: a located error, exit 2, no crash`, () => {
      const dir = join(work, `npy-${what.replace(/\W+/g, '-')}`);
      mkdirSync(dir);
      npyFile(join(dir, 'input.npy'), dict);
      const result = spawnCli(['compare', cnn, cnn, '--inputs', dir]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(`${join(dir, 'input.npy')}: `);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/internal error|Invalid array length|\n\s+at /);
    });
  }
});

describe('a TensorProto .pb input that claims 940 GB', () => {
  it('is refused by the reader with the file named, exit 2', () => {
    const dir = join(work, 'pb-huge');
    mkdirSync(dir);
    python(
      `import sys, onnx
t = onnx.TensorProto(name='input', data_type=onnx.TensorProto.FLOAT, dims=[300000000, 1, 28, 28])
open(sys.argv[1], 'wb').write(t.SerializeToString())`,
      [join(dir, 'input_0.pb')],
    );
    const result = spawnCli(['compare', cnn, cnn, '--inputs', dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${join(dir, 'input_0.pb')}: `);
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
  });
});

describe('inputs that are not regular files', () => {
  it('a missing .mpir or .onnx says so', () => {
    for (const name of ['missing.mpir', 'missing.onnx']) {
      const result = spawnCli(['inspect', join(work, name)]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`cannot read model '${join(work, name)}': it does not exist`);
      expect(result.stderr).not.toMatch(/internal error|ENOENT/);
    }
  });

  it('a folder is a folder, whatever its name', () => {
    for (const name of ['folder.mpir', 'folder.onnx', 'folder']) {
      mkdirSync(join(work, name));
      const result = spawnCli(['convert', join(work, name), '-o', join(work, 'x.onnx')]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`cannot read model '${join(work, name)}': it is a folder, not a regular file`);
      expect(result.stderr).not.toMatch(/internal error|EISDIR|cannot tell the format/);
    }
  });

  it('a FIFO is refused instead of read (which would wait forever)', () => {
    const fifo = (name: string) => {
      const path = join(work, name);
      execFileSync('mkfifo', [path]);
      return path;
    };
    const model = fifo('fifo.onnx');
    const inputs = fifo('input.npy');
    const images = fifo('images.idx');
    const plugin = fifo('plugin.mjs');
    const reproducer = join(work, 'fifo-reproducer');
    mkdirSync(reproducer);
    writeFileSync(join(reproducer, 'pipeline.txt'), 'dce\n');
    const reproducerInput = fifo('fifo-reproducer/input.mpir');
    const runs: [string[], string][] = [
      [['inspect', model], model],
      [['compare', cnn, cnn, '--inputs', inputs], inputs],
      [['eval', cnn, '--dataset', `idx:${images},${images}`], images],
      [['passes', '--plugin', plugin], plugin],
      [['replay', reproducer], reproducerInput],
    ];
    for (const [argv, path] of runs) {
      const result = spawnSync(process.execPath, [binPath, ...argv], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
      expect(result.error, `${argv.join(' ')} hung`).toBeUndefined();
      expect(result.status, result.stderr).not.toBe(0);
      expect(result.stderr).toContain(`'${path}': it is a FIFO (named pipe), not a regular file`);
    }
  });
});

describe('outputs', () => {
  it('-o into a missing folder is refused for both formats, naming the folder; nothing is created', () => {
    for (const name of ['out.onnx', 'out.mpir']) {
      const folder = join(work, `missing-folder-${name}`);
      const result = spawnCli(['convert', cnn, '-o', join(folder, name)]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`its folder '${folder}' does not exist`);
      expect(result.stderr).not.toMatch(/\.tmp|ENOENT/);
      expect(existsSync(folder)).toBe(false);
    }
  });

  it('--statistics-json into a missing folder is refused before the pipeline runs', () => {
    const folder = join(work, 'missing-statistics');
    const result = spawnCli(['convert', cnn, '-o', join(work, 'stats-model.onnx'), '--pipeline', 'dce', '--statistics-json', join(folder, 's.json')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot write statistics file '${join(folder, 's.json')}': its folder '${folder}' does not exist`);
    expect(existsSync(folder)).toBe(false);
    expect(existsSync(join(work, 'stats-model.onnx'))).toBe(false);
  });

  it('-o naming a folder is refused', () => {
    const result = spawnCli(['convert', cnn, '-o', work, '--to', 'onnx']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot write output '${work}': it is a folder`);
  });

  // A real full disk: a 64 KiB tmpfs mounted in a private mount namespace (gone when the shell exits).
  // Skipped only where the kernel refuses unprivileged user namespaces (`unshare -rm` fails), e.g.
  // some containers; no referee is involved.
  const canMount = spawnSync('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o size=64k tmpfs "${tmpdir()}"`]).status === 0;
  it.skipIf(!canMount)('ENOSPC while writing names the output and leaves no partial file', () => {
    for (const name of ['full.onnx', 'full.mpir']) {
      const disk = join(work, `disk-${name}`);
      mkdirSync(disk);
      const script = `mount -t tmpfs -o size=64k tmpfs "$1" && "$2" "$3" convert "$4" -o "$1/${name}"; code=$?; echo "left: [$(ls -A "$1")]"; exit $code`;
      const result = spawnSync('unshare', ['-rm', 'sh', '-c', script, 'sh', disk, process.execPath, binPath, cnn], { encoding: 'utf8', timeout: 120_000 });
      expect(result.status, result.stderr).toBe(1);
      expect(result.stderr).toContain(`cannot write '${join(disk, name)}': no space left on the device (ENOSPC); no partial file was left`);
      expect(result.stdout).toContain('left: []');
      expect(readdirSync(disk)).toEqual([]);
    }
  });
});

describe('hand-forged plugin objects', () => {
  const forged: [string, string][] = [
    ['no passManager range', "{ kind: 'modelpass.plugin', name: 'forged', version: '1.0.0', passes: [], ops: [], patterns: [] }"],
    ['patterns that are not a list', "{ kind: 'modelpass.plugin', name: 'forged', version: '1.0.0', passManager: '^0.1.0', passes: [], ops: [], patterns: null }"],
    ['a name that throws', "{ kind: 'modelpass.plugin', get name() { throw new Error('trap'); } }"],
    ['passes that are not passes', "{ kind: 'modelpass.plugin', name: 'forged', version: '1.0.0', passManager: '^0.1.0', passes: 'nope', ops: [], patterns: [] }"],
  ];
  for (const [what, value] of forged) {
    it(`${what}: the error names the plugin file`, () => {
      const file = join(work, `forged-${what.replace(/\W+/g, '-')}.mjs`);
      writeFileSync(file, `export default ${value};\n`);
      const result = spawnCli(['passes', '--plugin', file]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(file);
      expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    });
  }
});

describe('a .mpir input reads file(...) weights only inside its folder unless --allow-read names more', () => {
  it('refuses a reference into another folder, then reads it with --allow-read (convert, inspect)', () => {
    const models = join(work, 'allow-read-models');
    const weights = join(work, 'allow-read-weights');
    mkdirSync(models, { recursive: true });
    mkdirSync(weights, { recursive: true });
    const data = Buffer.alloc(16);
    [1, 2, 3, 4].forEach((v, i) => data.writeFloatLE(v, i * 4));
    writeFileSync(join(weights, 'w.bin'), data);
    const reference = join(weights, 'w.bin');
    const text =
      `model opsets{onnx=17} {\ngraph @main(%x: float32[4]) {\n  const %w = tensor<float32[4]> file(${JSON.stringify(reference)}, offset=0, length=16)\n` +
      `  %y = onnx.Add(%x, %w)\n  return %y\n}\n}\n`;
    const input = join(models, 'm.mpir');
    writeFileSync(input, text);
    const env = { ...process.env, MODELPASS_ALLOW_READ: '' };
    const refused = spawnSync(process.execPath, [binPath, 'inspect', input], { encoding: 'utf8', env });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('outside the folders this IR may read');
    expect(refused.stderr).toContain('--allow-read');
    const inspected = spawnSync(process.execPath, [binPath, 'inspect', input, '--allow-read', weights], { encoding: 'utf8', env });
    expect(inspected.stderr).toBe('');
    expect(inspected.status).toBe(0);
    const out = join(work, 'allow-read-out.onnx');
    const converted = spawnSync(process.execPath, [binPath, 'convert', input, '-o', out, '--allow-read', weights], { encoding: 'utf8', env });
    expect(converted.status, converted.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
  });
});
