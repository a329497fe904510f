/**
 * The files other than the model file that an input model's tensors are read from (ONNX external data),
 * so that `convert` does not write its output over one of them: `convert m.onnx -o m.data` replaced the
 * weights m.onnx reads with the converted model, exit 0, and m.onnx was broken for good (QA s15 round 8).
 */
import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
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

/**
 * Whether `file` is one of the data files the ONNX writer gives an output `outputPath`: `<output name>.data` in
 * its folder, or a `<output name>-<8 hex>.data` variant. The writer puts the weights of a model past 2 GiB there,
 * and after each write it removes the earlier ones of these names — even when the new model needs none.
 */
function isOnnxOutputDataFile(file: string, outputPath: string): boolean {
  if (!sameFile(dirname(resolve(outputPath)), dirname(file))) return false;
  const dataName = `${basename(outputPath)}.data`;
  const ext = extname(dataName);
  const stem = dataName.slice(0, -ext.length);
  const name = basename(file);
  return name === dataName || (name.startsWith(`${stem}-`) && name.endsWith(ext) && /^[0-9a-f]{8}$/.test(name.slice(stem.length + 1, -ext.length)));
}

/**
 * Refuses an output path that is one of the input model's data files, and an ONNX output whose own data file
 * (`<output>.data`, which the writer fills or removes) is one: `convert a.onnx -o b.onnx`, where a.onnx keeps its
 * weights in b.onnx.data, deleted them with exit 0 (QA s16). Replacing the input model itself stays allowed.
 */
export function checkOutputNotInputData(model: Model, modelPath: string, outputPath: string, outputFormat?: string): void {
  const replacesInput = sameFile(resolve(outputPath), resolve(modelPath));
  for (const file of inputDataFiles(model, modelPath)) {
    if (sameFile(resolve(outputPath), file)) {
      throw new ModelpassError({
        reason: `cannot write output '${outputPath}': it is an external data file of the input model '${modelPath}', which would lose its weights`,
        location: { file: outputPath },
        hint: 'choose another output name (replacing the model file itself is allowed: -o with the input path)',
        source: '@modelpass/cli',
      });
    }
    if (outputFormat === 'onnx' && !replacesInput && isOnnxOutputDataFile(file, outputPath)) {
      throw new ModelpassError({
        reason: `cannot write output '${outputPath}': its data file '${basename(file)}' (where the ONNX writer puts large weights, removing older copies) is an external data file of the input model '${modelPath}', which would lose its weights`,
        location: { file: outputPath },
        hint: `choose another output name or folder, or first convert '${modelPath}' to a name of its own`,
        source: '@modelpass/cli',
      });
    }
  }
}
