import { describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { foldConstantsPass } from '@modelpass/transforms';
import { opsOf, runPass } from './helpers.js';

const f32 = (shape: (number | string)[]) => tensorType('float32', shape);
const ramp = (n: number) => Tensor.fromValues('float32', [n, 1, 1], Array.from({ length: n }, (_, i) => i / n));

describe('fold-constants and Identity of a constant', () => {
  it('forwards the constant to the readers of an Identity of it, even when a copy would exceed max-growth', async () => {
    // torch's exporter writes equal initializers (ConvNeXt's layer scales) once, behind Identity nodes.
    const b = new GraphBuilder();
    const x = b.input('x', f32([1, 512, 2, 2]));
    const scale = b.constant(ramp(512), 'layer_scale');
    const first = b.op1('onnx.Mul', [x, scale]);
    const alias = b.op1('onnx.Identity', [scale], {}, { name: 'Identity_0' });
    b.output(b.op1('onnx.Mul', [first, alias]));
    const model = b.model({ onnx: 17 });
    const run = await runPass(foldConstantsPass, model);
    expect(opsOf(model)).toEqual(['Mul', 'Mul']);
    const [one, two] = model.graph.nodeList();
    expect(two!.inputs[1]).toBe(one!.inputs[1]);
    expect(two!.inputs[1]!.name).toBe('layer_scale');
    expect(run.statistics.get('nodes-folded')).toBe(1);
    expect(run.statistics.get('declined-for-growth') ?? 0).toBe(0);
    expect(run.statistics.get('bytes-saved') ?? 0).toBe(0);
  });

  it('keeps a graph output that is an Identity of a constant under its name', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([4, 1, 1]));
    const scale = b.constant(ramp(4), 'scale');
    const copy = b.op1('onnx.Identity', [scale], {}, { name: 'copy', outputs: ['scale_out'] });
    b.output(b.op1('onnx.Mul', [x, scale]), copy);
    const model = b.model({ onnx: 17 });
    await runPass(foldConstantsPass, model);
    expect(model.graph.outputs.map((v) => v.name)).toContain('scale_out');
    const out = model.graph.outputs.find((v) => v.name === 'scale_out')!;
    expect(out.producer?.op === 'onnx.Constant' || out.producer?.op === 'onnx.Identity').toBe(true);
  });
});
