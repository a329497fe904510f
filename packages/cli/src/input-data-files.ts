/**
 * The files other than the model file that an input model's tensors are read from (ONNX external data),
 * so that `convert` does not write its output over one of them: `convert m.onnx -o m.data` replaced the
 * weights m.onnx reads with the converted model, exit 0, and m.onnx was broken for good (QA s15 round 8).
 */
import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { FileRangeStorage, ModelpassError, type Graph, type Model, type Tensor } from '@modelpass/ir';

function* graphTensors(graph: Graph): Generator<Tensor> {
  for (const value of graph.constants) if (value.constant) yield value.constant;
  for (const node of graph.nodes()) {
    for (const attribute of node.attributes.values()) if (attribute.kind === 'tensor') yield attribute.value;
    for (const subgraph of node.subgraphs) yield* graphTensors(subgraph);
  }
}

/** The data files (resolved paths) that the model's lazily read tensors come from, the model file excepted. */
export function inputDataFiles(model: Model, modelPath: string): Set<string> {
  const files = new Set<string>();
  const modelFile = resolve(modelPath);
  for (const tensor of graphTensors(model.graph)) {
    if (tensor.storage instanceof FileRangeStorage && resolve(tensor.storage.path) !== modelFile) files.add(resolve(tensor.storage.path));
  }
  return files;
}

function sameFile(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    if (realpathSync(a) === realpathSync(b)) return true;
    const [x, y] = [statSync(a), statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/** Refuses an output path that is one of the input model's data files. */
export function checkOutputNotInputData(model: Model, modelPath: string, outputPath: string): void {
  for (const file of inputDataFiles(model, modelPath)) {
    if (!sameFile(resolve(outputPath), file)) continue;
    throw new ModelpassError({
      reason: `cannot write output '${outputPath}': it is an external data file of the input model '${modelPath}', which would lose its weights`,
      location: { file: outputPath },
      hint: 'choose another output name (replacing the model file itself is allowed: -o with the input path)',
      source: '@modelpass/cli',
    });
  }
}
