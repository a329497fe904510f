// The models the TFLite benches convert, and where each one's ONNX file lies.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../prune/ort-timing.mjs';

export const FASHION = ['fashion-cnn', 'fashion-mlp', 'fashion-transformer'];
export const TORCHVISION = ['resnet18', 'mobilenet_v2', 'shufflenet_v2_x0_5', 'efficientnet_b0', 'mobilenet_v3_small', 'regnet_y_400mf'];

/** A fixture's model, or a torchvision model made by tools/fixtures/make_torchvision.py (its command when missing). */
export function modelPath(name) {
  if (FASHION.includes(name)) return join(ROOT, 'fixtures/models', name, 'model.onnx');
  const path = join(ROOT, '.fixtures-cache/torchvision', `${name}.onnx`);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`/usr/bin/python3 tools/fixtures/make_torchvision.py ${name}\` first`);
  return path;
}
