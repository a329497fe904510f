/**
 * float16 models written as TorchScript (QA s13 R4: a convert-float16 MLP became a .pt that loaded and then failed
 * in torch "addmm_impl_cpu_ not implemented for 'Half'"). torch 1.13 has no Half CPU kernel for matmul, conv, relu,
 * softmax, …: the writer refuses those, naming the ops and the way out, and writes float16 models whose ops torch
 * runs in Half on CPU (element-wise arithmetic, reductions by sum/mean/max, data movement), checked by Debian torch
 * against ONNX Runtime and by reading the archive back.
 */
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { writeTorchScript } from '@modelpass/torchscript';
import { describeExportCases, i64, seeded, type ExportCase } from './torch/export-cases.js';

const FLOAT = 1;
const FLOAT16 = 10;

const dir = mkdtempSync(join(tmpdir(), 'modelpass-float16-refusal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A float16 MLP as convert-float16 writes it: float16 input, weights and output; Gemm and Relu in float16. */
function float16Mlp() {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float16', [2, 6]));
  const w = b.constant(Tensor.fromValues('float16', [4, 6], seeded([4, 6], 3).toNumbers()), 'w');
  const bias = b.constant(Tensor.fromValues('float16', [4], seeded([4], 5).toNumbers()), 'bias');
  const hidden = b.op1('onnx.Relu', [b.op1('onnx.Gemm', [x, w, bias], { transB: attrs.int(1) }, { name: 'l1' })], {}, { name: 'relu' });
  b.output(b.op1('onnx.Add', [hidden, hidden], {}, { name: 'twice' }));
  return b.model({ onnx: 17 });
}

describe('float16 compute torch 1.13 cannot run on CPU', () => {
  it('is refused before writing, naming the ops, the reason and the way out', () => {
    const file = join(dir, 'mlp_fp16.pt');
    let message = '';
    try {
      writeTorchScript(float16Mlp(), file);
    } catch (error) {
      message = `${(error as Error).message} ${(error as { diagnostics?: { hint?: string }[] }).diagnostics?.map((d) => d.hint).join(' ') ?? ''}`;
    }
    expect(message).toMatch(/float16 onnx\.Gemm \(l1\); onnx\.Relu \(relu\)/);
    expect(message).toMatch(/no float16 \('Half'\) CPU kernel/);
    expect(message).toMatch(/write the float32 model instead/);
    expect(message).not.toMatch(/onnx\.Add/);
    expect(existsSync(file)).toBe(false);
  });

  it('is written as is with allowFloat16WithoutCpuKernels (a .pt meant for CUDA)', () => {
    const file = join(dir, 'mlp_fp16_cuda.pt');
    writeTorchScript(float16Mlp(), file, { allowFloat16WithoutCpuKernels: true });
    expect(existsSync(file)).toBe(true);
  });
});

/** x → float16 → `body` → float32: torch computes the middle in Half on CPU. */
const half = (name: string, input: number[], body: (b: GraphBuilder, h: ReturnType<GraphBuilder['op1']>) => ReturnType<GraphBuilder['op1']>): ExportCase => ({
  name,
  input,
  build: (b, x) => b.op1('onnx.Cast', [body(b, b.op1('onnx.Cast', [x], { to: attrs.int(FLOAT16) }))], { to: attrs.int(FLOAT) }),
});

const CASES: ExportCase[] = [
  half('float16 Add, Mul, Div and ReduceMean', [2, 3, 4], (b, h) => {
    const scaled = b.op1('onnx.Div', [b.op1('onnx.Mul', [h, h]), b.constant(Tensor.fromValues('float16', [4], [1, 2, 4, 8]), 'divisor')]);
    return b.op1('onnx.Add', [scaled, b.op1('onnx.ReduceMean', [h, b.constant(i64([2]), 'axes')])]);
  }),
  half('float16 Transpose, Reshape, Concat, ReduceMax and Where', [2, 6], (b, h) => {
    const moved = b.op1('onnx.Reshape', [b.op1('onnx.Transpose', [h], { perm: attrs.ints([1, 0]) }), b.constant(i64([3, 4]), 'shape')]);
    const joined = b.op1('onnx.Concat', [moved, b.op1('onnx.ReduceMax', [moved, b.constant(i64([1]), 'axes')])], { axis: attrs.int(1) });
    return b.op1('onnx.Where', [b.op1('onnx.Greater', [joined, b.constant(Tensor.fromValues('float16', [], [0]), 'zero')]), joined, b.op1('onnx.Neg', [joined])]);
  }),
];

describeExportCases({ name: 'float16-export', opset: 18, torchTolerance: (expected) => 2e-3 * (1 + Math.max(...expected.toNumbers().map(Math.abs))) }, CASES);
