/**
 * s17 issue 12 item 3: an int8 attention head split whose projection weights are quantized per column (a QDQ model
 * quantized outside quantize-static, e.g. ONNX Runtime's quantizer with per_channel=True; quantize-static{full-integer}
 * itself quantizes head-split projections per tensor). BATCH_MATMUL takes one weight scale, so the int8 head split
 * requantized such weights per tensor and left ORT's integers (s16: "a model with per-channel head-split weights loses
 * a step"). Now each head is one CONV_2D with the head's columns as a per-channel filter (ORT's integers and scales),
 * the heads concatenated. The model: the Fashion transformer quantized full-integer by quantize-static, its q/k/v
 * projection weights re-quantized per column from their reals. Referee: ONNX Runtime on that QDQ model vs TFLite 2.9.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, Tensor, type Model } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { datasetBatches, disposeSharedOrtRunner, loadDataset, runOrt, TfliteEngine } from '@modelpass/runtime';
import { PROJECT_MODELS_DIR } from '../real-models.js';
import { dtypeOf, fullIntegerTflite, quantizeInput, quantOf } from './full-integer-harness.js';

const DIR = mkdtempSync(join(tmpdir(), 'tflite-int8-head-split-per-column-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(DIR, { recursive: true, force: true });
});

/** The int8 [Ein, 3E] q/k/v weights' DequantizeLinear re-quantized per column (symmetric, max |w| / 127 each). Returns the new integers, by weight. */
function perColumnHeadWeights(model: Model, packedWidth: number): Tensor[] {
  const made: Tensor[] = [];
  for (const node of model.graph.nodeList()) {
    const weight = node.op === 'onnx.DequantizeLinear' ? node.inputs[0]?.constant : undefined;
    if (!weight || weight.dtype !== 'int8' || weight.rank !== 2 || weight.shape[1] !== packedWidth) continue;
    const scale = node.inputs[1]!.constant!.toNumbers()[0]!;
    const [rows, columns] = weight.shape as [number, number];
    const codes = weight.toNumbers();
    const scales: number[] = [];
    const integers = new Int8Array(rows * columns);
    for (let c = 0; c < columns; c++) {
      let peak = 0;
      for (let r = 0; r < rows; r++) peak = Math.max(peak, Math.abs(codes[r * columns + c]! * scale));
      const columnScale = Math.fround(peak / 127) || 1;
      scales.push(columnScale);
      for (let r = 0; r < rows; r++) integers[r * columns + c] = Math.max(-127, Math.min(127, Math.round((codes[r * columns + c]! * scale) / columnScale)));
    }
    const graph = model.graph;
    const tensor = Tensor.fromValues('int8', [rows, columns], integers);
    node.setInput(0, graph.addConstant(graph.uniqueName('qkv_per_column'), tensor));
    node.setInput(1, graph.addConstant(graph.uniqueName('qkv_per_column_scale'), Tensor.fromValues('float32', [columns], scales)));
    node.setInput(2, graph.addConstant(graph.uniqueName('qkv_per_column_zero_point'), Tensor.fromValues('int8', [columns], new Array<number>(columns).fill(0))));
    node.setAttribute('axis', attrs.int(1));
    made.push(Tensor.fromValues('float32', [columns], scales), tensor);
  }
  return made;
}

describe('int8 head split with per-column projection weights', () => {
  it('fashion-transformer, q/k/v weights per column: one per-channel CONV_2D per head (ORT\'s integers), TFLite within 2 steps of ORT', async () => {
    const model = readOnnx(`${PROJECT_MODELS_DIR}/fashion-transformer/model.onnx`);
    const path = join(DIR, 'per-column.tflite');
    // Quantized full-integer first (head splits per tensor), then the q/k/v weights made per column; converted as given.
    const { ops } = await fullIntegerTflite(model, 'simplify,quantize-static{dataset=fashion-mnist:train samples=128 full-integer=true}', join(DIR, 'per-tensor.tflite'));
    expect(ops.filter((op) => op === 'BATCH_MATMUL(int8)').length).toBe(10); // per tensor: 6 head projections + 4 attention products
    const made = perColumnHeadWeights(model, 192);
    expect(made.length).toBe(4); // two layers: scales and integers each
    const { qdq, written: perColumn, ops: perColumnOps } = await fullIntegerTflite(model, 'dce', path);
    expect(perColumnOps.filter((op) => op === 'BATCH_MATMUL(int8)').length).toBe(4); // the attention products only
    // Each head one CONV_2D whose filter holds the head's 16 columns of ORT's integers with their scales.
    const headConvs = perColumn.nodeList().filter((node) => node.op === 'tflite.CONV_2D' && /_head\d_as_conv/.test(node.name));
    expect(headConvs.length).toBe(24); // 2 layers × q, k, v × 4 heads
    const [scales, integers] = [made[0]!.toNumbers(), made[1]!.toNumbers()];
    const firstFilter = perColumn.nodeList().find((node) => node.op === 'tflite.CONV_2D' && /layers\.0\/attn\/Transpose_head0_as_conv/.test(node.name))!.inputs[1]!;
    const columnsOfFilter = firstFilter.constant!.toNumbers();
    expect(quantOf(firstFilter)!.scale).toEqual(scales.slice(0, 16).map(Math.fround));
    for (let d = 0; d < 16; d++) for (let i = 0; i < 64; i++) expect(columnsOfFilter[d * 64 + i]).toBe(integers[i * 192 + d]);
    expect(perColumnOps.filter((op) => op.endsWith('(float32)'))).toEqual([]);

    const test = loadDataset('fashion-mnist:test', { limit: 64 });
    const images = datasetBatches(test, { batchSize: 64 }).next().value!.input.toNumbers();
    const input = perColumn.inputs[0]!;
    const outQuant = quantOf(perColumn.outputs[0]!)!;
    const engine = new TfliteEngine();
    let worst = 0;
    let total = 0;
    let count = 0;
    try {
      for (let i = 0; i < 64; i++) {
        const x = Tensor.fromValues('float32', [1, 28, 28], images.slice(i * 784, (i + 1) * 784));
        const xi = quantizeInput(x, input);
        const inQuant = quantOf(input)!;
        const reals = Tensor.fromValues('float32', x.shape, xi.toNumbers().map((v) => (v - inQuant.zeroPoint[0]!) * inQuant.scale[0]!));
        const ort = [...(await runOrt(qdq, { [input.name]: reals })).values()][0]!.toNumbers();
        const tflite = [...(await engine.run(path, { [input.name]: xi })).values()][0]!;
        expect(dtypeOf(perColumn.outputs[0]!)).toBe('int8');
        tflite.toNumbers().forEach((v, k) => {
          const steps = Math.round(Math.abs((v - outQuant.zeroPoint[0]!) * outQuant.scale[0]! - ort[k]!) / outQuant.scale[0]!);
          worst = Math.max(worst, steps);
          total += steps;
          count++;
        });
      }
    } finally {
      engine.dispose();
    }
    // Measured: worst 2, mean 0.366 steps (the per-tensor model: 0.36); requantized per tensor it was 0.41. Since d4a257d
    // LayerNorm's int8 d·d is a table of ORT's own results (TFLite's MUL rounds twice): mean 0.358, one element 3 steps
    // (64 images, s18) — closer on average, the worst element a step further (the drift downstream is chaotic).
    expect(worst).toBeLessThanOrEqual(3);
    expect(total / count).toBeLessThanOrEqual(0.37);
  }, 240_000);
});
