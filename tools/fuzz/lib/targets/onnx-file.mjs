/**
 * ONNX through the file reader: `readOnnx` (lazy scanning, file-range tensors) on the same inputs
 * as the `onnx` target, written to a scratch file. Property: it agrees with `decodeOnnx` — both
 * accept (and give equal models, with every tensor read) or both reject.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelpassError, modelsEqual } from '@modelpass/ir';
import { decodeOnnx, readOnnx } from '@modelpass/onnx';
import { PropertyViolation, step } from '../property.mjs';
import { scratchFolder } from '../scratch.mjs';
import { generateOnnxInput, loadOnnxSeeds } from './onnx.mjs';

function readEveryTensor(model) {
  const visit = (graph) => {
    for (const value of graph.constants) value.constant?.bytes();
    for (const node of graph.nodes()) for (const sub of node.subgraphs) visit(sub);
  };
  visit(model.graph);
}

export const onnxFileTarget = {
  name: 'onnx-file',
  extension: 'onnx',
  inputKind: 'bytes',
  setup(options) {
    const dir = mkdtempSync(join(scratchFolder(options), 'onnx-'));
    return { seeds: loadOnnxSeeds(options), path: join(dir, 'model.onnx') };
  },
  generate: (rng, state) => generateOnnxInput(rng, state.seeds),
  parse(input, state) {
    writeFileSync(state.path, input);
    const model = readOnnx(state.path, { lazyThreshold: 16 });
    readEveryTensor(model);
    return model;
  },
  check(model, input, state) {
    let eager;
    try {
      eager = decodeOnnx(input, { file: state.path });
    } catch (error) {
      if (ModelpassError.is(error)) throw new PropertyViolation('read-vs-decode', `readOnnx accepts what decodeOnnx rejects: ${error.message.split('\n')[0].replaceAll(state.path, '<file>')}`);
      throw error;
    }
    const difference = step('read-vs-decode', 'modelsEqual', () => modelsEqual(model, eager));
    if (difference !== undefined) throw new PropertyViolation('read-vs-decode', `readOnnx and decodeOnnx disagree: ${difference}`);
  },
  /** Rejections must agree too: when readOnnx rejects, decodeOnnx must reject as well. */
  onRejected(input, state) {
    try {
      decodeOnnx(input, { file: state.path });
    } catch (error) {
      if (ModelpassError.is(error)) return;
      throw error;
    }
    throw new PropertyViolation('read-vs-decode', 'decodeOnnx accepts what readOnnx rejects');
  },
};
