#!/bin/sh
# Sets up a fresh machine for modelpass: the Debian referees the tests use (ONNX's conformance data
# and checker) and the npm workspace. Safe to run again: it only installs what is missing.
set -e
cd "$(dirname "$0")/.."

missing=""
[ -d /usr/share/libonnx-testdata/data ] || missing="$missing libonnx-testdata"
/usr/bin/python3 -c "import onnx" >/dev/null 2>&1 || missing="$missing python3-onnx"
[ -d /usr/share/datasets/fashion-mnist ] || missing="$missing dataset-fashion-mnist"
# PyTorch: the TorchScript referee (torch.jit.load) and fixture maker of @modelpass/torchscript and the runtime's torch engine.
/usr/bin/python3 -c "import torch" >/dev/null 2>&1 || missing="$missing python3-torch"
# torchvision: the torchvision models of the pruning/quantization benches and the train package's resnet18 gradient test.
/usr/bin/python3 -c "import torchvision" >/dev/null 2>&1 || missing="$missing python3-torchvision"
# tfjs-tflite-node (the TFLite runtime, an optional dependency of @modelpass/runtime) is built by node-gyp.
command -v g++ >/dev/null 2>&1 || missing="$missing g++"
command -v make >/dev/null 2>&1 || missing="$missing make"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
# Redis: the job queue server of @modelpass/distributed (BullMQ); its tests start their own on a loopback port.
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing" >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 || {
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y --no-install-recommends $missing >/dev/null
  }
fi

# node-gyp (tfjs-tflite-node) must not download Node's headers: Debian's nodejs ships them under /usr.
if [ -z "$npm_config_nodedir" ] && [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi

# onnxruntime-node's postinstall would download CUDA libraries; its CPU build ships in the tarball.
export ONNXRUNTIME_NODE_INSTALL=skip
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund >/dev/null
fi

# The TFLite runtime's native binding: built by npm ci; rebuilt if an earlier install lacked a compiler.
if [ -d node_modules/tfjs-tflite-node ] && [ ! -f node_modules/tfjs-tflite-node/build/Release/node_tflite_binding.node ]; then
  echo "setup: building tfjs-tflite-node (TFLite runtime)" >&2
  npm rebuild tfjs-tflite-node >/dev/null
fi
