/**
 * note12 item 1: compare fed random token ids in [0, 9] to a model whose Embedding (a Gather on a 5-row table)
 * takes ids 0-4 only, so ONNX Runtime refused the run ("indices element out of data bounds, idx=5"). Ids that
 * index a table now stay within its rows (the smallest table over their readers), and the header says so.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder, Tensor, attrs, tensorType } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';
import { modelsMadeByTorch } from './torch-made-models.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-compare-index-'));
/** torch's nn.Embedding(5, 3) (·2), exported by torch.onnx.export and saved by torch.jit.trace. */
let torchMade = '';
beforeAll(() => {
  torchMade = modelsMadeByTorch('modelpass-compare-embedding-', `
import sys, torch
torch.manual_seed(0)
class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.e = torch.nn.Embedding(5, 3)
    def forward(self, ids):
        return self.e(ids) * 2
m = M().eval()
ids = torch.zeros(1, 4, dtype=torch.long)
torch.onnx.export(m, ids, sys.argv[1] + '/emb.onnx', input_names=['ids'], output_names=['y'], opset_version=13)
torch.jit.trace(m, ids).save(sys.argv[1] + '/emb.pt')
`);
}, 120_000);
afterAll(() => {
  rmSync(temp, { recursive: true, force: true });
  if (torchMade) rmSync(torchMade, { recursive: true, force: true });
});

/** y = Embedding(rows×3)(ids)·2 (a Gather on axis 0, as torch.onnx.export writes nn.Embedding); `second` adds a Gather on a 3-row table. */
function embedding(rows: number, second = false): string {
  const g = new GraphBuilder();
  const ids = g.input('ids', tensorType('int64', [1, 16]));
  const table = Tensor.fromValues('float32', [rows, 3], Array.from({ length: rows * 3 }, (_, i) => Math.sin(i + 0.5)));
  let y = g.op1('onnx.Gather', [g.constant(table, 'embedding.weight'), ids], { axis: attrs.int(0) }, { name: '/e/Gather' });
  y = g.op1('onnx.Mul', [y, g.constant(Tensor.scalar('float32', 2), 'two')]);
  const outputs = [y];
  if (second) {
    const cast = g.op1('onnx.Cast', [ids], { to: attrs.int(6) });
    const small = Tensor.fromValues('float32', [3, 2], [1, 2, 3, 4, 5, 6]);
    outputs.push(g.op1('onnx.Gather', [g.constant(small, 'small'), cast], { axis: attrs.int(0) }, { name: 'small_gather' }));
  }
  g.output(...outputs);
  const path = join(temp, `emb-${rows}-${second}.onnx`);
  writeFileSync(path, encodeOnnx(g.model({ onnx: 13 })));
  return path;
}

describe('compare: random ids stay within the table they index', () => {
  it('a 5-row embedding compares (exit 0) with ids in [0, 4], and the header says why', async () => {
    const model = embedding(5);
    const result = await runCli(['compare', model, model]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain("inputs: ids int64[1,16] (random, seed 0; ids in [0, 4]: Gather '/e/Gather' indexes axis 0 of size 5)");
    const json = JSON.parse((await runCli(['compare', model, model, '--json'])).stdout);
    expect(json.inputRanges).toEqual({ ids: { min: 0, max: 4, reader: "Gather '/e/Gather' indexes axis 0 of size 5" } });
  });

  it("torch's nn.Embedding(5, 3): its .onnx against itself (ORT) and its .pt (torch) against its .onnx exit 0", async () => {
    const onnx = join(torchMade, 'emb.onnx');
    const pt = join(torchMade, 'emb.pt');
    const alone = await runCli(['compare', onnx, onnx]);
    expect(alone.code, alone.stdout + alone.stderr).toBe(0);
    expect(alone.stdout).toContain("ids in [0, 4]: Gather '/e/Gather' indexes axis 0 of size 5");
    // torch runs the .pt; the ids are drawn from its IR (a Gather on e.weight).
    const paired = await runCli(['compare', pt, onnx]);
    expect(paired.code, paired.stdout + paired.stderr).toBe(0);
    expect(paired.stdout).toContain("(random, seed 0; ids in [0, 4]: Gather 'Gather' indexes axis 0 of size 5)");
    // A .pt modelpass wrote reads the ids through Mod(ids, 5) (negative ids wrap) before its Gather: followed too.
    const written = join(temp, 'emb-written.pt');
    expect((await runCli(['convert', onnx, '-o', written])).code).toBe(0);
    const back = await runCli(['compare', written, onnx]);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(back.stdout).toContain('(random, seed 0; ids in [0, 4]: Gather');
  }, 60_000);

  it('ids read by two tables (one behind a Cast) take the smaller', async () => {
    const model = embedding(5, true);
    const result = await runCli(['compare', model, model]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain("ids in [0, 2]: Gather 'small_gather' indexes axis 0 of size 3");
  });

  it('a table of 10 rows or more keeps the default range and says nothing more', async () => {
    const model = embedding(40);
    const result = await runCli(['compare', model, model]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('inputs: ids int64[1,16] (random, seed 0)\n');
  });
});
