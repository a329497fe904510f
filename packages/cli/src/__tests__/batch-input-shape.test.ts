/**
 * `batch` of TorchScript archives, which record no input shapes: legalize-tflite then fails node by
 * node ("convolution needs the input's rank"). batch takes --input-shape/--input-dtype as convert
 * does (carried by each job to its worker), and without them a failed .pt gets a hint naming the flag.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from './run-cli.js';

// Made by torch, not by modelpass: an archive modelpass writes records its input shapes (extra/modelpass.json), and
// a batch of such files needs no --input-shape.
const SMALL_CONV_NET = [
  'import sys, torch',
  'class Net(torch.nn.Module):',
  '    def __init__(self):',
  '        super().__init__()',
  '        self.conv = torch.nn.Conv2d(2, 3, 3, padding=1, bias=False)',
  '    def forward(self, image):',
  '        return torch.max_pool2d(torch.relu(self.conv(image)), 2, 2)',
  'torch.jit.save(torch.jit.script(Net()), sys.argv[1])',
].join('\n');

let temp: string;
let models: string;
beforeAll(() => {
  temp = realpathSync(mkdtempSync(join(tmpdir(), 'modelpass-batch-shape-')));
  models = join(temp, 'models');
  mkdirSync(models);
  // torch.jit.script reads the class's source, so the script must be a file.
  writeFileSync(join(temp, 'make_net.py'), `${SMALL_CONV_NET}\n`);
  execFileSync('/usr/bin/python3', [join(temp, 'make_net.py'), join(models, 'net.pt')], { stdio: 'ignore', timeout: 120_000 });
}, 120_000);
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('batch --input-shape', () => {
  it('without it, a .pt that needs ranks fails and the hint names the flag', () => {
    const out = join(temp, 'out-bare');
    mkdirSync(out);
    const result = spawnCli(['batch', models, '-o', out, '-p', 'legalize-tflite', '--to', 'tflite'], temp);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("needs the input's rank");
    expect(result.stderr).toContain('modelpass: hint: TorchScript archives record no input shapes; the failed .pt may need them: --input-shape NAME=DIMS');
  });

  it('with it, every model is read with the shape and the .tflite agrees with torch', () => {
    const out = join(temp, 'out-shaped');
    mkdirSync(out);
    const result = spawnCli(['batch', models, '-o', out, '-p', 'legalize-tflite', '--to', 'tflite', '--input-shape', 'image=1,2,6,6'], temp);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).not.toContain('hint');
    const compared = spawnCli(['compare', join(models, 'net.pt'), join(out, 'net.tflite'), '--input-shape', 'image=1,2,6,6'], temp);
    expect(compared.code, compared.stdout + compared.stderr).toBe(0);
    expect(compared.stdout).toContain('verdict: agree');
  });

  it('a .pt refused as hostile gets no shape hint; one failing for want of ranks beside it still does (QA s12 N5)', () => {
    const mixed = join(temp, 'mixed');
    mkdirSync(mixed);
    copyFileSync(join(models, 'net.pt'), join(mixed, 'net.pt'));
    const script = [
      'import sys, pickle, zipfile, os',
      'class Evil:',
      '    def __reduce__(self): return (os.system, ("true",))',
      'with zipfile.ZipFile(sys.argv[1], "w") as z:',
      '    z.writestr("evil/data.pkl", pickle.dumps(Evil(), protocol=2))',
      '    z.writestr("evil/constants.pkl", pickle.dumps((), protocol=2))',
      '    z.writestr("evil/version", "3\\n")',
    ].join('\n');
    execFileSync('/usr/bin/python3', ['-c', script, join(mixed, 'evil.pt')]);
    const both = join(temp, 'out-mixed');
    mkdirSync(both);
    const result = spawnCli(['batch', mixed, '-o', both, '-p', 'legalize-tflite', '--to', 'tflite'], temp);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/global '(posix|os)\.system' is not allowed/);
    expect(result.stderr, result.stdout + result.stderr).toContain('modelpass: hint: TorchScript archives record no input shapes; the failed .pt may need them');

    rmSync(join(mixed, 'net.pt'));
    const alone = join(temp, 'out-hostile');
    mkdirSync(alone);
    const hostile = spawnCli(['batch', mixed, '-o', alone, '-p', 'legalize-tflite', '--to', 'tflite'], temp);
    expect(hostile.code).toBe(1);
    expect(hostile.stdout).toMatch(/global '(posix|os)\.system' is not allowed/);
    expect(hostile.stderr).not.toContain('record no input shapes');
  });

  it('names a wrong input and a malformed value like convert does', () => {
    const out = join(temp, 'out-wrong');
    mkdirSync(out);
    const wrong = spawnCli(['batch', models, '-o', out, '-p', 'legalize-tflite', '--to', 'tflite', '--input-shape', 'nope=1,2,6,6'], temp);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain("input shapes are given for 'nope', but");
    const malformed = spawnCli(['batch', models, '-o', out, '-p', 'legalize-tflite', '--to', 'tflite', '--input-shape', 'image=1,x-2'], temp);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain("--input-shape 'image=1,x-2': dim 'x-2' is not a size, a symbolic name or ?");
  });
});
