// The modelpass side of the benchmark, against the built dist of @modelpass/onnx.
// usage: node modelpass-io.mjs convert IN.onnx OUT.onnx   (load + save)
//        node modelpass-io.mjs inspect IN.onnx            (load, count nodes and weight bytes)
import { readOnnx, writeOnnx } from '../../../packages/onnx/dist/index.js';

const [mode, input, output] = process.argv.slice(2);
const model = readOnnx(input);
if (mode === 'convert') {
  writeOnnx(model, output);
} else {
  let bytes = 0;
  for (const value of model.graph.constants) bytes += value.constant?.byteLength ?? 0;
  console.log(`${model.graph.nodeCount} nodes, ${model.graph.constants.length} initializers, ${bytes} bytes of weights`);
}
