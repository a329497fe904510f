/**
 * A report that fills every section the HTML page draws, with model-provided names that are hostile
 * (markup, script, a URL, quotes): the page must show them as text and run none of them.
 */
import type { LayerRecord, ModelSummary, PassRecord, Report } from '@modelpass/report';

export const HOSTILE_NODE = `<script>window.__pwned = 1</script>`;
export const HOSTILE_TENSOR = `"><img src=x onerror="window.__pwned=2">`;
export const HOSTILE_INPUT = `</script><script>window.__pwned=3</script>`;
export const HOSTILE_OP_OPTION = `{{constructor.constructor('window.__pwned=4')()}}`;

function summary(scale: number): ModelSummary {
  return {
    path: 'model.onnx',
    fileBytes: Math.round(1_700_000 * scale),
    bytes: Math.round(1_650_000 * scale),
    bytesByDtype: scale === 1 ? { float32: 1_650_000 } : { int8: 400_000, float32: 12_000, int32: 800 },
    bytesByOp: scale === 1 ? { Conv: 1_200_000, Gemm: 440_000, BatchNormalization: 10_000 } : { Conv: 300_000, Gemm: 112_000, DequantizeLinear: 800 },
    parameters: Math.round(412_000 * (scale === 1 ? 1 : 1.0)),
    nodes: scale === 1 ? 14 : 31,
    nodesByOp: scale === 1 ? { Conv: 2, Relu: 3, MaxPool: 2, Gemm: 2, BatchNormalization: 2, Flatten: 1, Identity: 2 } : { Conv: 2, Relu: 3, MaxPool: 2, Gemm: 2, Flatten: 1, QuantizeLinear: 9, DequantizeLinear: 12 },
    flops: 12_400_000,
    macs: 6_150_000,
    flopsByOp: { Conv: 11_000_000, Gemm: 1_300_000, Relu: 100_000 },
    flopsUncounted: 0,
    flopsAssumptions: ["input 'x' dim 0 'N' = 1"],
    graphInputs: [{ name: HOSTILE_INPUT, type: 'float32[N,1,28,28]' }],
    graphOutputs: [{ name: 'logits', type: 'float32[N,10]' }],
    opsets: { '': 17 },
  };
}

function layer(node: string, op: string, channels: number, sparsity: number, sqnr: number): LayerRecord {
  return {
    node,
    op,
    weight: `${node}.weight`,
    weightShape: [channels, 16, 3, 3],
    parameters: channels * 144,
    flops: channels * 144 * 196 * 2,
    sparsity,
    channels: { before: channels, after: Math.round(channels * 0.75) },
    quantization: { dtype: 'int8', bits: 8, axis: 0, scale: [0.01, 0.02], zeroPoint: [0, 0], scaleCount: channels, sqnrDb: sqnr, cosine: 0.9995 },
  };
}

function pass(index: number, name: string, timeMs: number, changed: boolean, statistics: Record<string, number>, options: Record<string, unknown> = {}): PassRecord {
  const check = {
    engine: 'onnxruntime',
    atol: 1e-3,
    rtol: 1e-3,
    outputs: [{ name: 'logits', maxAbsError: index * 1e-5, maxRelError: index * 1e-4, cosine: 1, top1Agreement: 1, elementCount: 10, mismatchedElements: 0, withinTolerance: true }],
    withinTolerance: true,
  };
  return { index, name, options, timeMs, changed, statistics, check };
}

export function sampleReport(): Report {
  return {
    schemaVersion: 1,
    tool: { name: 'modelpass', version: '0.1.0' },
    command: 'convert',
    argv: ['convert', 'model.onnx', '-o', 'out.onnx', '--pipeline', 'simplify,quantize-static'],
    createdAt: '2026-12-03T12:00:00.000Z',
    inputs: [
      { role: 'model', path: 'model.onnx', format: 'onnx', bytes: 1_700_000 },
      { role: 'dataset', path: 'fashion-mnist:train', format: 'idx' },
    ],
    pipeline: 'simplify,quantize-static{calibration=minmax samples=256}',
    passes: [
      pass(1, 'canonicalize', 3.2, true, { 'identities-removed': 2 }),
      pass(2, 'fuse-bn', 1.4, true, { 'bn-folded': 2 }),
      pass(3, 'dce', 0.2, false, { 'nodes-removed': 0 }),
      pass(4, 'quantize-static', 184.5, true, { 'tensors-quantized': 9, 'ops-left-float': 1 }, { calibration: 'minmax', samples: 256, exclude: [HOSTILE_OP_OPTION] }),
    ],
    models: { before: summary(1), after: summary(0.25) },
    accuracy: {
      before: { top1: 0.8712, samples: 10_000, dataset: 'fashion-mnist:test' },
      after: { top1: 0.8699, samples: 10_000, dataset: 'fashion-mnist:test' },
    },
    latency: {
      before: { medianMs: 0.84, p90Ms: 0.95, runs: 200, batch: 1, engine: 'onnxruntime' },
      after: { medianMs: 0.52, p90Ms: 0.61, runs: 200, batch: 1, engine: 'onnxruntime' },
    },
    layers: [layer(HOSTILE_NODE, 'Conv', 16, 0.5, 38.2), layer('conv2', 'Conv', 32, 0.25, 41.7), layer('fc1', 'Gemm', 128, 0.1, 35.9), layer('fc2', 'Gemm', 10, 0, 44.1)],
    diff: {
      nodes: {
        added: [{ name: 'x_QuantizeLinear', op: 'QuantizeLinear', inputs: [HOSTILE_INPUT, 'x_scale', 'x_zero_point'], outputs: ['x_q'] }],
        removed: [{ name: 'bn1', op: 'BatchNormalization', inputs: ['conv1_out', 'bn1.scale', 'bn1.bias', 'bn1.mean', 'bn1.var'], outputs: ['bn1_out'] }],
        changed: [
          {
            name: HOSTILE_NODE,
            matchedBy: 'name',
            op: 'Conv',
            attributes: [{ name: 'pads', before: '[0, 0, 0, 0]', after: '[1, 1, 1, 1]' }],
            inputs: [{ index: 1, before: 'conv1.weight', after: HOSTILE_TENSOR }],
          },
        ],
        unchanged: 11,
      },
      initializers: {
        added: [{ name: 'x_scale', dtype: 'float32', shape: [] }],
        removed: [{ name: 'bn1.mean', dtype: 'float32', shape: [16] }],
        changed: [{ name: HOSTILE_TENSOR, dtype: 'float32', dtypeAfter: 'int8', shape: [16, 1, 3, 3], maxAbsError: 0.0031, maxRelError: 'Infinity', cosine: 0.9998 }],
        unchanged: 5,
      },
      graphInputs: { added: [], removed: [], changed: [] },
      graphOutputs: { added: [], removed: [], changed: [{ name: 'logits', before: 'float32[N,10]', after: 'float32[1,10]' }] },
      tensors: {
        engine: 'onnxruntime',
        inputs: { source: 'random', seed: 0, samples: 1 },
        compared: 12,
        tensors: [{ name: 'conv1_out', node: HOSTILE_NODE, op: 'Conv', maxAbsError: 0.004, maxRelError: 0.02, cosine: 0.9999, withinTolerance: false }],
        firstDivergent: 'conv1_out',
        atol: 1e-3,
        rtol: 1e-3,
      },
    },
    check: {
      atol: 1e-3,
      rtol: 1e-3,
      inputs: { source: 'random', seed: 0, samples: 4 },
      status: 'passed',
      notes: ['ORT ran every check'],
    },
    diagnostics: [{ severity: 'warning', reason: `op left float: ${HOSTILE_NODE}`, location: HOSTILE_TENSOR }],
  };
}
