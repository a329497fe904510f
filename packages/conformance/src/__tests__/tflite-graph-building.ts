/**
 * Building small tflite-dialect graphs by hand for the raise-tflite tests: one node per call, and
 * deterministic float inputs.
 */
import { Tensor, type Attribute, type Graph, type Type, type Value } from '@modelpass/ir';

/** Adds a `tflite.<op>` node named after its first output; returns its outputs. */
export function addTfliteNode(graph: Graph, op: string, inputs: (Value | null)[], outputs: [string, Type][], attributes: Record<string, Attribute> = {}): Value[] {
  return graph.createNode({ op: `tflite.${op}`, name: outputs[0]![0], inputs, outputs: outputs.map(([name, type]) => ({ name, type })), attributes }).outputs.map((v) => v!);
}

/** float32 values sin(1.7·i + offset)·scale: varied, repeatable, no two neighbours equal. */
export function sineRamp(shape: number[], scale: number, offset = 0): Tensor {
  const size = shape.reduce((n, d) => n * d, 1);
  return Tensor.fromValues('float32', shape, Array.from({ length: size }, (_, i) => Math.fround(Math.sin(i * 1.7 + offset) * scale)));
}
