#!/bin/sh
# The main job on the built-in example: optimize a small Fashion-MNIST CNN (Conv+BatchNorm+ReLU),
# prove in ONNX Runtime that its outputs did not change, and show what changed in the graph.
set -e
cd "$(dirname "$0")/.."
modelpass() { node packages/cli/bin/modelpass.js "$@"; }
model=fixtures/models/fashion-cnn/model.onnx
out=tmp/example
mkdir -p "$out"

echo "== inspect the input model"
modelpass inspect "$model"
echo
echo "== convert with the 'optimize' pipeline (simplify, fuse BatchNorm into Conv, simplify)"
modelpass convert "$model" -o "$out/fashion-cnn.optimized.onnx" --pipeline optimize --statistics --timing
echo
echo "== inspect the result"
modelpass inspect "$out/fashion-cnn.optimized.onnx"
echo
echo "== compare both in ONNX Runtime on the committed test images"
modelpass compare "$model" "$out/fashion-cnn.optimized.onnx" --inputs fixtures/models/fashion-cnn/test_data_set_0
echo
echo "wrote $out/fashion-cnn.optimized.onnx"
