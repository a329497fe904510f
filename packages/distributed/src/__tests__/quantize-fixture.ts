/** The Fashion-MNIST CNN through quantize-static, single-process or with a statistics collector installed. */
import { fileURLToPath } from 'node:url';
import { encodeOnnx, readOnnx } from '@modelpass/onnx';
import { PassManager } from '@modelpass/pass-manager';
import { defaultConvertEnvironment, withStatisticsCollector } from '@modelpass/distributed';
import type { StatisticsCollector } from '@modelpass/quantize';

export const FASHION_CNN = fileURLToPath(new URL('../../../../fixtures/models/fashion-cnn/model.onnx', import.meta.url));

export async function quantizeCnn(pipeline: string, collector?: StatisticsCollector): Promise<Uint8Array> {
  const model = readOnnx(FASHION_CNN);
  const manager = new PassManager({ environment: defaultConvertEnvironment() });
  const run = () => manager.run(model, pipeline);
  await (collector ? withStatisticsCollector(collector, run) : run());
  return encodeOnnx(model);
}
