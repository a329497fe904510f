import { isTensorType, type DiagnosticInit, type Graph, type Node } from '@modelpass/ir';

const FLOAT_DTYPES: ReadonlySet<string> = new Set(['float32', 'float16', 'float64', 'bfloat16']);

const nodeName = (node: Node): string => `'${node.name || node.outputs[0]?.name || '?'}' (${node.op})`;

/**
 * io-type=int8/int16 makes an edge integer only where the model quantizes an input right away or dequantizes an output
 * last (`prepare-quantized.ts`). Every other float graph input/output stays float32 in the .tflite: a warning names each,
 * with the node that keeps it float, so a user who asked for integer edges is not handed float ones silently (QA s17: 9
 * of 12 quantized torchvision/fixture models kept a float input because quantize-static leaves the RGB stem float).
 */
export function floatEdgesLeft(graph: Graph, ioType: 'int8' | 'int16', integer: { inputs: readonly string[]; outputs: readonly string[] }): DiagnosticInit[] {
  const warnings: DiagnosticInit[] = [];
  const report = (edge: string, why: string): void => {
    warnings.push({
      severity: 'warning',
      source: '@modelpass/tflite',
      code: 'tflite/io-type-float-edge',
      reason: `io-type=${ioType}: ${edge} stays float32 in the .tflite: ${why}`,
      hint: `an edge becomes ${ioType} only where the model quantizes the input first or dequantizes the output last; quantize-static{full-integer=true} quantizes every edge`,
    });
  };
  const inputs = new Set(integer.inputs);
  for (const input of graph.inputs) {
    if (inputs.has(input.name) || !isTensorType(input.type) || !FLOAT_DTYPES.has(input.type.dtype) || input.users.length === 0) continue;
    const floatReaders = input.users.filter((reader) => reader.op !== 'onnx.QuantizeLinear');
    report(`input '${input.name}'`, floatReaders.length > 0 ? `the model reads it in float (${floatReaders.slice(0, 3).map(nodeName).join(', ')}${floatReaders.length > 3 ? ', …' : ''})` : input.isGraphOutput ? 'it is also a graph output' : 'its QuantizeLinear readers do not share one constant scale and zero point');
  }
  const outputs = new Set(integer.outputs);
  for (const output of graph.outputs) {
    if (outputs.has(output.name) || !isTensorType(output.type) || !FLOAT_DTYPES.has(output.type.dtype)) continue;
    const producer = output.producer;
    report(`output '${output.name}'`, producer ? `the model computes it in float (${nodeName(producer)})` : 'no node computes it');
  }
  return warnings;
}
