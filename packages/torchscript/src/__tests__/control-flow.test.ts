/**
 * Branches and loops on tensor data → ONNX If / Loop, refereed by Debian torch (the scripted
 * module's own outputs) and ONNX Runtime, on inputs that take both sides of every branch and
 * several trip counts (zero included); the ONNX files pass onnx's full checker, and the imported
 * models written back as TorchScript (if/while blocks) run in torch.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { readNpy, runOrt } from '@modelpass/runtime';
import { readTorchScript, writeTorchArchive, writeTorchScript } from '@modelpass/torchscript';
import { PYTHON, runPython } from './torch/torch-fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
let dir: string;
let caseCount: number;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelpass-torchscript-control-flow-'));
  // TorchScript prints `a if t else b` as an if statement; a hand-written archive keeps the conditional expression.
  writeTorchArchive(join(dir, 'ternary.pt'), {
    prefix: 'ternary',
    version: 3,
    code: new Map([['code/__torch__.py', TERNARY_SOURCE]]),
    data: { kind: 'object', className: '__torch__.Ternary', state: { kind: 'dict', entries: [[{ kind: 'string', value: 'training' }, { kind: 'bool', value: false }]] } },
    constants: { kind: 'tuple', items: [] },
    tensors: new Map(),
  });
  caseCount = Number(runPython(join(here, 'torch/make-control-flow.py'), [dir, `ternary=${join(dir, 'ternary.pt')}`]).trim());
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TERNARY_SOURCE = [
  'class Ternary(Module):',
  '  __parameters__ = []',
  '  __buffers__ = []',
  '  training : bool',
  '  def forward(self: __torch__.Ternary,',
  '    x: Tensor) -> Tensor:',
  '    y = torch.mul(x, 2.) if bool(torch.gt(torch.sum(x), 0)) else torch.sub(x, 1.)',
  '    return torch.add(y, 1 if bool(torch.lt(torch.max(x), 3.)) else 2)',
  '',
].join('\n');

/** Module → the control-flow ops its import must contain. */
const MODULES: Array<[string, string[]]> = [
  ['if_both', ['onnx.If']],
  ['if_nested', ['onnx.If']],
  ['if_scalar', ['onnx.If']],
  ['ternary', ['onnx.If']],
  ['for_data', ['onnx.Loop']],
  ['for_step', ['onnx.Loop']],
  ['while_data', ['onnx.If', 'onnx.Loop']],
  ['if_checked', []], // the raising branch is dropped: ONNX has no exceptions
];

describe.each(MODULES)('%s', (name, ops) => {
  it(`imports with ${ops.join(' and ') || 'no control flow'} and ORT matches torch within 1e-4 on every input`, async () => {
    const model = readTorchScript(join(dir, `${name}.pt`), { inputs: [{ shape: ['batch', 8] }] });
    const found = new Set([...model.graph.nodes()].map((node) => node.op).filter((op) => op === 'onnx.If' || op === 'onnx.Loop'));
    expect([...found].sort()).toEqual(ops);
    const onnxPath = join(dir, `${name}.onnx`);
    writeOnnx(model, onnxPath);
    expect(caseCount).toBeGreaterThanOrEqual(4);
    for (let i = 0; i < caseCount; i++) {
      const [output] = [...(await runOrt(onnxPath, { [model.graph.inputs[0]!.name]: readNpy(join(dir, `${name}.input${i}.npy`)) })).values()];
      const expected = readNpy(join(dir, `${name}.expected${i}.npy`));
      expect(output!.shape).toEqual(expected.shape);
      expect(worstDifference(output!.toNumbers(), expected.toNumbers()), `input ${i}`).toBeLessThan(1e-4);
    }
    // Written back as TorchScript (If/Loop as if/while blocks), run below in one torch process.
    writeTorchScript(model, join(dir, `${name}.rewritten.pt`));
  }, 60_000);
});

// One Python start-up each for the checker and for torch (after the per-module tests wrote their files).
describe('every imported model', () => {
  it("passes onnx's full checker", () => {
    const files = MODULES.map(([name]) => join(dir, `${name}.onnx`));
    execFileSync(PYTHON, ['-c', 'import onnx, sys\nfor f in sys.argv[1:]: onnx.checker.check_model(onnx.load(f), full_check=True)', ...files], { stdio: 'pipe', timeout: 120_000 });
  }, 120_000);

  it('written back as TorchScript runs in torch within 1e-4 on every input', () => {
    const manifest = MODULES.map(([name]) => ({
      archive: join(dir, `${name}.rewritten.pt`),
      runs: Array.from({ length: caseCount }, (_, i) => ({ inputs: [join(dir, `${name}.input${i}.npy`)], out: join(dir, `${name}.rewritten${i}`) })),
    }));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    runPython(join(here, 'torch/run-many.py'), [join(dir, 'manifest.json')], 300_000);
    for (const [name] of MODULES) {
      for (let i = 0; i < caseCount; i++) {
        const a = readNpy(join(dir, `${name}.rewritten${i}.0.npy`)).toNumbers();
        const b = readNpy(join(dir, `${name}.expected${i}.npy`)).toNumbers();
        expect(worstDifference(a, b), `${name} input ${i}`).toBeLessThan(1e-4);
      }
    }
  }, 300_000);
});

function worstDifference(a: readonly number[], b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  return a.reduce((worst, v, j) => Math.max(worst, Math.abs(v - b[j]!)), 0);
}

it('refuses a Python list changed inside a branch on tensor data, at the if', () => {
  let error: unknown;
  try {
    readTorchScript(join(dir, 'if_list.pt'), { inputs: [{ shape: ['batch', 8] }] });
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(ModelpassError);
  expect((error as Error).message).toMatch(/if_list\.pt:code\/__torch__\.py:\d+:\d+: a list is changed inside an 'if' on tensor data/);
});
