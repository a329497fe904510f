/**
 * HardSigmoid between a DequantizeLinear and a QuantizeLinear runs as an integer Add (hard-sigmoid-as-add.ts):
 * `DQ → HardSigmoid(α, β) → Q(s, qmin)` equals `DQ → Add(β/α) → Q(s/α, qmin)` when the QuantizeLinear's
 * saturation does HardSigmoid's clips. Checked in ONNX Runtime on every one of the 256 input codes: the
 * float path (ORT runs DQ, HardSigmoid and Q as float kernels) against the rewritten one (ORT fuses it
 * into QLinearAdd); and on a MobileNetV3-style block (HardSwish, squeeze-excitation gate) quantized
 * end to end: ORT's optimized graph has QLinearAdd in place of both HardSigmoids and no float
 * HardSigmoid, DequantizeLinear or QuantizeLinear left between the integer kernels. An opset-14
 * HardSwish between quantized ops is split into `x · HardSigmoid(x)` first (hard-swish-split.ts), so
 * it gets the same two integer kernels; a HardSwish on a float graph output stays whole.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModel, Tensor, type Model } from '@modelpass/ir';
import { encodeOnnx, writeOnnx } from '@modelpass/onnx';
import { hardSigmoidsAsAdd } from '@modelpass/quantize';
import { OrtRunner } from '@modelpass/runtime';
import { checkWithOnnx, ortFusion, requireReferees, runPipeline } from './static-helpers.js';

/** `x (uint8 codes) → DQ(sx, zx) → HardSigmoid(α, β) → Q(sy, zy) → y` as a model. */
function gateModel(input: { scale: number; zeroPoint: number }, output: { scale: number; zeroPoint: number }, alpha: number, beta: number): Model {
  return parseModel(`model ir_version=8 opsets{onnx=13} {
graph @main(%x: uint8[256]) {
  const %sx = tensor<float32[]> [${input.scale}]
  const %zx = tensor<uint8[]> [${input.zeroPoint}]
  const %sy = tensor<float32[]> [${output.scale}]
  const %zy = tensor<uint8[]> [${output.zeroPoint}]
  %v: float32[256] = onnx.DequantizeLinear(%x, %sx, %zx) name="dq"
  %h: float32[256] = onnx.HardSigmoid(%v) {alpha=${alpha}, beta=${beta}} name="gate"
  %y: uint8[256] = onnx.QuantizeLinear(%h, %sy, %zy) name="q"
  return %y
}
}`);
}

const allCodes = () => Tensor.fromValues('uint8', [256], Uint8Array.from({ length: 256 }, (_, i) => i));

async function run(model: Model): Promise<number[]> {
  const runner = new OrtRunner({ maxSessions: 1 });
  try {
    return [...(await runner.run(encodeOnnx(model), { x: allCodes() })).values()][0]!.toNumbers();
  } finally {
    await runner.dispose();
  }
}

describe('HardSigmoid as an integer Add', () => {
  const cases = [
    { name: 'HardSwish gate (torch: α=1/6, β=0.5), range [0, 1]', input: { scale: 0.05, zeroPoint: 128 }, output: { scale: 1 / 255, zeroPoint: 0 }, alpha: 1 / 6, beta: 0.5 },
    { name: 'calibrated range [0, 0.55] (saturates before 1)', input: { scale: 0.00228, zeroPoint: 78 }, output: { scale: 0.55 / 255, zeroPoint: 0 }, alpha: 1 / 6, beta: 0.5 },
    { name: 'ONNX defaults (α=0.2, β=0.5), negative shift', input: { scale: 0.03, zeroPoint: 50 }, output: { scale: 0.8 / 255, zeroPoint: 0 }, alpha: 0.2, beta: -0.4 },
  ];
  for (const c of cases) {
    it(`gives ORT's float codes on all 256 inputs: ${c.name}`, async () => {
      requireReferees();
      const reference = gateModel(c.input, c.output, c.alpha, c.beta);
      const rewritten = gateModel(c.input, c.output, c.alpha, c.beta);
      expect(hardSigmoidsAsAdd(rewritten.graph)).toEqual([{ node: 'gate', shift: c.beta / c.alpha }]);
      expect([...rewritten.graph.nodes()].map((node) => node.opType)).toEqual(['DequantizeLinear', 'DequantizeLinear', 'Add', 'QuantizeLinear']);
      const [expected, actual] = [await run(reference), await run(rewritten)];
      // Same codes; a tie rounded the other way by ORT's integer Add is one code at most, and rare.
      const off = expected.map((e, i) => Math.abs(e - actual[i]!));
      expect(Math.max(...off)).toBeLessThanOrEqual(1);
      expect(off.filter((d) => d > 0).length).toBeLessThanOrEqual(2);
      expect(new Set(expected).size).toBeGreaterThan(10); // the sweep crosses the slope, not only the clips
    });
  }

  it('leaves a HardSigmoid alone when the QuantizeLinear does not clip as it does', () => {
    const zeroPointNotMin = gateModel({ scale: 0.05, zeroPoint: 128 }, { scale: 1 / 255, zeroPoint: 10 }, 1 / 6, 0.5);
    const topAboveOne = gateModel({ scale: 0.05, zeroPoint: 128 }, { scale: 1.5 / 255, zeroPoint: 0 }, 1 / 6, 0.5);
    const negativeAlpha = gateModel({ scale: 0.05, zeroPoint: 128 }, { scale: 1 / 255, zeroPoint: 0 }, -0.2, 0.5);
    for (const model of [zeroPointNotMin, topAboveOne, negativeAlpha]) {
      expect(hardSigmoidsAsAdd(model.graph)).toEqual([]);
      expect([...model.graph.nodes()].map((node) => node.opType)).toContain('HardSigmoid');
    }
  });

  it('quantize-static turns a HardSwish and an SE gate into QLinearAdd in ORT', async () => {
    requireReferees();
    const fixture = new URL('../../fixtures/quantize-static/hard-sigmoid-as-add/input.mpir', import.meta.url);
    const model = parseModel(readFileSync(fixture, 'utf8'));
    const debug: string[] = [];
    await runPipeline(model, 'quantize-static{samples=8 min-conv-reduction=0}', debug);
    expect(debug).toContainEqual(expect.stringMatching(/quantized HardSigmoid 'hardswish\/gate' \(ORT: QLinearAdd \(\+3; /));
    expect(debug).toContainEqual(expect.stringMatching(/quantized HardSigmoid 'se\/gate' \(ORT: QLinearAdd/));
    const out = join(mkdtempSync(join(tmpdir(), 'quantize-hsig-')), 'block.int8.onnx');
    writeOnnx(model, out);
    checkWithOnnx(out);
    const fusion = await ortFusion(out);
    expect(fusion.unfused).toEqual([]);
    expect(fusion.ops.filter((op) => op === 'QLinearAdd')).toHaveLength(2);
    expect(fusion.ops.filter((op) => op === 'QLinearMul')).toHaveLength(2);
    expect(fusion.ops).not.toContain('HardSigmoid');
    expect(fusion.ops).not.toContain('DequantizeLinear');
    expect(fusion.ops.filter((op) => op === 'QuantizeLinear')).toHaveLength(1); // the graph input's
  });

  it('format=qoperator writes the rewritten gates as QLinearAdd nodes', async () => {
    requireReferees();
    const fixture = new URL('../../fixtures/quantize-static/hard-sigmoid-as-add/input.mpir', import.meta.url);
    const model = parseModel(readFileSync(fixture, 'utf8'));
    await runPipeline(model, 'quantize-static{samples=8 min-conv-reduction=0 format=qoperator}');
    const ops = [...model.graph.nodes()].map((node) => node.opType);
    expect(ops.filter((op) => op === 'QLinearAdd')).toHaveLength(2);
    expect(ops).not.toContain('HardSigmoid');
    const out = join(mkdtempSync(join(tmpdir(), 'quantize-hsig-')), 'block.qop.onnx');
    writeOnnx(model, out);
    expect((await ortFusion(out)).ops).not.toContain('HardSigmoid');
  });

  it('splits an opset-14 HardSwish between quantized ops into QLinearAdd + QLinearMul', async () => {
    requireReferees();
    const fixture = new URL('../../fixtures/quantize-static/hard-swish-split/input.mpir', import.meta.url);
    const model = parseModel(readFileSync(fixture, 'utf8'));
    const debug: string[] = [];
    await runPipeline(model, 'quantize-static{samples=8 min-conv-reduction=0}', debug);
    expect(debug).toContainEqual(expect.stringMatching(/quantized Mul 'expand\/hardswish\/mul' \(ORT: QLinearMul\)/));
    expect(debug).toContainEqual(expect.stringMatching(/quantized HardSigmoid 'depthwise\/hardswish\/gate' \(ORT: QLinearAdd/));
    // The value the depthwise Conv reads keeps the HardSwish's name.
    expect([...model.graph.nodes()].find((node) => node.name === 'depthwise')!.inputs[0]!.producer!.inputs[0]!.name).toBe('h');
    const out = join(mkdtempSync(join(tmpdir(), 'quantize-hswish-')), 'block.int8.onnx');
    writeOnnx(model, out);
    checkWithOnnx(out);
    const fusion = await ortFusion(out);
    expect(fusion.unfused).toEqual([]);
    expect(fusion.ops.filter((op) => op === 'QLinearAdd')).toHaveLength(2);
    expect(fusion.ops.filter((op) => op === 'QLinearMul')).toHaveLength(2);
    // Only the graph output's HardSwish (after a float-output QGemm) runs in float; ORT spells it HardSigmoid + Mul.
    expect(fusion.ops.filter((op) => op === 'HardSwish' || op === 'HardSigmoid')).toHaveLength(1);
    expect(fusion.ops.indexOf('HardSigmoid')).toBeGreaterThan(fusion.ops.indexOf('QGemm'));
    expect(fusion.ops).not.toContain('DequantizeLinear');
  });
});
