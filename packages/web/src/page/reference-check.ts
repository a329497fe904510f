/**
 * Runs the original and the transformed model on the same seeded random inputs with the
 * pure-TypeScript reference interpreter and compares their outputs: the page's proof that the
 * pipeline kept the numbers, with no native engine.
 */
import { decodeOnnx } from '@modelpass/onnx';
import { ReferenceEngine, compareOutputs, generateInputs, type ComparisonReport } from '@modelpass/runtime/reference';

export interface ReferenceCheck {
  readonly comparison: ComparisonReport;
  readonly inputs: readonly { readonly name: string; readonly shape: readonly number[] }[];
  readonly ms: number;
}

/** Symbolic or unknown dimensions become 1 (batch of one). */
export async function checkWithReference(original: Uint8Array, transformed: Uint8Array, fileName: string, seed = 0): Promise<ReferenceCheck> {
  const start = performance.now();
  const before = decodeOnnx(original, { file: fileName });
  const after = decodeOnnx(transformed, { file: fileName });
  const feeds = generateInputs(before, { seed, defaultDim: 1 });
  const engine = new ReferenceEngine();
  const reference = await engine.run(before, feeds);
  const candidate = await engine.run(after, feeds);
  const comparison = compareOutputs(reference, candidate);
  return { comparison, inputs: [...feeds].map(([name, tensor]) => ({ name, shape: [...tensor.shape] })), ms: performance.now() - start };
}
