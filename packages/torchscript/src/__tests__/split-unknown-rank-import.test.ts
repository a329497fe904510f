/**
 * Reading back a written .pt without input shapes (QA s13 R2: `mp compare q_gpt.onnx q_gpt.pt` failed
 * "aten::split_with_sizes: the rank of the input is not known while importing" on a GPT's qkv split). A split into
 * explicit sizes needs neither the rank nor the dim's length: ONNX Split takes the dim (negative too) as is.
 * Referee: ONNX Runtime on the original model and on the model read back from the archive.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, tensorType } from '@modelpass/ir';
import { runOrt } from '@modelpass/runtime';
import { readTorchScript, writeTorchScript } from '@modelpass/torchscript';
import { seeded, i64 } from './torch/export-cases.js';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-split-unknown-rank-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('split_with_sizes of a tensor whose rank is not known while importing', () => {
  for (const axis of [2, -1]) {
    it(`a qkv projection split into [4, 4, 4] along dim ${axis} reads back without input shapes and agrees with ORT`, async () => {
      const b = new GraphBuilder();
      const x = b.input('x', tensorType('float32', ['batch', 'len', 6]));
      const qkv = b.op1('onnx.Add', [b.constant(seeded([12], 3), 'bias'), b.op1('onnx.MatMul', [x, b.constant(seeded([6, 12], 5), 'w')])]);
      const [q, k, v] = b.op('onnx.Split', [qkv, b.constant(i64([4, 4, 4]), 'sizes')], { axis: attrs.int(axis) }, { outputs: 3 });
      b.output(b.op1('onnx.Add', [b.op1('onnx.Mul', [q!, k!]), v!]));
      const model = b.model({ onnx: 17 });
      const file = join(dir, `qkv_${axis}.pt`);
      writeTorchScript(model, file);
      const imported = readTorchScript(file);
      const feeds = { x: seeded([2, 5, 6], 11, -1, 1) };
      const expected = [...(await runOrt(model, feeds)).values()][0]!;
      const actual = [...(await runOrt(imported, feeds)).values()][0]!;
      expect(actual.shape).toEqual(expected.shape);
      const [a, e] = [actual.toNumbers(), expected.toNumbers()];
      expect(Math.max(...a.map((value, i) => Math.abs(value - e[i]!)))).toBeLessThan(1e-5);
      expect(a).toHaveLength(2 * 5 * 4);
    }, 60_000);
  }
});
