/**
 * What the full-integer conformance tests share: run a pipeline and read its statistics and warnings, quantize a
 * model full-integer and convert it strictly to a .tflite read back, and the int8 integers io-type=int8's input takes.
 */
import { expect } from 'vitest';
import { quantizeLinear, Tensor, type Graph, type Model, type QuantParams, type TensorType, type Value } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { builtinEnvironment } from '@modelpass/cli';
import { readTflite, writeTflite } from '@modelpass/tflite';

export async function runPipeline(model: Model, pipeline: string): Promise<{ statistics: Map<string, number>; warnings: string[] }> {
  const statistics = new StatisticsInstrumentation();
  const result = await new PassManager({ environment: builtinEnvironment(), instrumentations: [statistics] }).run(model, pipeline);
  const last = pipeline.split(',').at(-1)!.split('{')[0]!;
  return { statistics: new Map(statistics.get(last) ?? []), warnings: result.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.reason) };
}

export const dtypeOf = (value: Value): string => (value.type as TensorType).dtype;
export const quantOf = (value: Value): QuantParams | undefined => (value.type as TensorType).quant ?? value.constant?.quant;

/**
 * `model` quantized by `quantizePipeline` (which must warn of no float node), written as QDQ ONNX, read back and
 * converted by `legalize-tflite{io-type=int8 full-integer=true}` (no float op) to `path`, which is read back: the QDQ
 * bytes ORT runs, the .tflite's graph, and its ops as `OP(output dtype)`.
 */
export async function fullIntegerTflite(model: Model, quantizePipeline: string, path: string): Promise<{ qdq: Uint8Array; written: Graph; ops: string[] }> {
  const quantized = await runPipeline(model, quantizePipeline);
  expect(quantized.warnings.filter((w) => w.startsWith('full-integer:'))).toEqual([]);
  const qdq = encodeOnnx(model);
  const converted = decodeOnnx(qdq);
  expect((await runPipeline(converted, 'legalize-tflite{io-type=int8 full-integer=true}')).statistics.get('float-ops-in-int8-model')).toBe(0);
  writeTflite(converted, path);
  const written = readTflite(path).graph;
  return { qdq, written, ops: written.nodeList().map((node) => `${node.op.slice(7)}(${dtypeOf(node.outputs[0]!)})`) };
}

/**
 * The int8 integers io-type=int8's input takes for the float32 `x` (ONNX's QuantizeLinear: half to even, saturated),
 * or `x` itself where the input stays float32 (a SHAPE reads it besides the QUANTIZE).
 */
export function quantizeInput(x: Tensor, input: Value): Tensor {
  const quant = quantOf(input);
  if (!quant) return x;
  return quantizeLinear(x, Tensor.fromValues('float32', [], [quant.scale[0]!]), Tensor.fromValues('int8', [], [quant.zeroPoint[0]!]));
}
