/**
 * `Reshape(y, Shape(t))` (GroupNorm as torch.onnx exports it) is written as `torch.reshape(y, torch.size(t))`, so its
 * static dims stay known when the archive is read back. QA s19: fmnet (GroupNorm, image [n,1,28,28]) .onnx → .pt → .tflite
 * was refused at a Flatten 'the output shape [?,?] has more than one unknown dim': the where-over-shape spelling of
 * ONNX's copy-a-zero rule read back as [?,?,?,28]. Numbers against torch: pad-reshape-export.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { readTorchScript, writeTorchScript } from '@modelpass/torchscript';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-reshape-shape-of-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Reshape to the shape of another tensor', () => {
  it('reads back with the static dims of that tensor', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', ['n', 16, 28, 28]));
    const grouped = b.op1('onnx.Reshape', [x, b.constant(Tensor.fromValues('int64', [3], [0n, 4n, -1n]), 'groups')]);
    const back = b.op1('onnx.Reshape', [b.op1('onnx.Relu', [grouped]), b.op1('onnx.Shape', [x])]);
    b.output(b.op1('onnx.Flatten', [back]));
    const path = join(dir, 'group-norm-like.pt');
    writeTorchScript(b.model({ onnx: 17 }), path);
    const read = readTorchScript(path, { inputs: { x: { shape: ['n', 16, 28, 28] } } });
    // The batch dim reads back unnamed; what legalize-tflite needs is the one static size after Flatten.
    const type = read.graph.outputs[0]!.type;
    expect(type.kind === 'tensor' ? type.shape : undefined).toEqual([null, 16 * 28 * 28]);
  });
});
