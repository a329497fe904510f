/**
 * The registry of canonical op → TorchScript emitters: each op family keeps its emitters in its own file and
 * exports them as a table; this joins the tables (a table, not a switch). An op listed twice is a programming
 * error, caught when the module loads.
 */
import type { OpEmitter } from './emit-context.js';
import { convolutionEmitters } from './convolution-emitters.js';
import { creationEmitters } from './creation-emitters.js';
import { detectionEmitters } from './detection-emitters.js';
import { elementwiseEmitters } from './elementwise-emitters.js';
import { indexingEmitters } from './indexing-emitters.js';
import { linearAlgebraEmitters } from './linear-algebra-emitters.js';
import { normalizationEmitters } from './normalization-emitters.js';
import { padEmitter } from './pad-emitter.js';
import { quantizeEmitters } from './quantize-emitters.js';
import { recurrentEmitters } from './recurrent-emitters.js';
import { reductionEmitters } from './reduction-emitters.js';
import { resizeEmitter } from './resize-emitter.js';
import { samplingEmitters } from './sampling-emitters.js';
import { shapeEmitters } from './shape-emitters.js';

export { opaqueAten } from './opaque-aten-emitter.js';

function joinTables(...tables: ReadonlyArray<ReadonlyArray<[string, OpEmitter]>>): ReadonlyMap<string, OpEmitter> {
  const registry = new Map<string, OpEmitter>();
  for (const [op, emitter] of tables.flat()) {
    if (registry.has(op)) throw new Error(`two TorchScript emitters for ${op}`);
    registry.set(op, emitter);
  }
  return registry;
}

export const opEmitters: ReadonlyMap<string, OpEmitter> = joinTables(
  elementwiseEmitters,
  linearAlgebraEmitters,
  convolutionEmitters,
  normalizationEmitters,
  reductionEmitters,
  indexingEmitters,
  shapeEmitters,
  creationEmitters,
  [['onnx.Pad', padEmitter]],
  [['onnx.Resize', resizeEmitter], ['onnx.Upsample', resizeEmitter]],
  samplingEmitters,
  detectionEmitters,
  recurrentEmitters,
  quantizeEmitters,
);
