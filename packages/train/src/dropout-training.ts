/**
 * Training-mode Dropout, written out for ONNX Runtime's inference build: each Dropout becomes
 * `x · mask`, with the mask a new graph input (0 where dropped, 1/(1 − ratio) where kept: PyTorch's
 * inverted dropout). The step loop fills the masks from a seeded generator keyed by (seed, step,
 * dropout index), so a run is repeatable and a resumed run draws the same masks. Autodiff then sees a
 * Mul, whose rule gives the gradient dY · mask.
 */
import { Builder, ModelpassError, tensorType, type Model } from '@modelpass/ir';
import { GradientContext } from './gradient-context.js';
import { seededGenerator } from './epoch-order.js';

export interface DropoutMask {
  /** The mask input's name. */
  readonly input: string;
  /** The Dropout node it replaces. */
  readonly node: string;
  readonly ratio: number;
  /** Shape of one sample (the mask is `[N, ...sampleShape]`). */
  readonly sampleShape: readonly number[];
}

function dropoutError(node: string, reason: string): ModelpassError {
  return new ModelpassError({ reason: `Dropout '${node}': ${reason}`, source: '@modelpass/train' });
}

export function writeOutTrainingDropout(model: Model): DropoutMask[] {
  const masks: DropoutMask[] = [];
  for (const node of [...model.graph.nodesOf('onnx.Dropout')]) {
    const x = node.input(0);
    const ratioValue = node.inputs[1];
    let ratio = 0.5;
    if (ratioValue) {
      if (!ratioValue.constant) throw dropoutError(node.name, 'its ratio is computed at run time; training needs a constant ratio');
      ratio = ratioValue.constant.toNumbers()[0]!;
    }
    if (!(ratio >= 0 && ratio < 1)) throw dropoutError(node.name, `ratio ${ratio} is outside [0, 1)`);
    if (node.outputs[1] && (node.outputs[1].hasUses || node.outputs[1].isGraphOutput)) throw dropoutError(node.name, 'the model reads its mask output; cannot write it out');
    const type = x.type;
    if (type.kind !== 'tensor' || type.shape === null || !type.shape.slice(1).every((d) => typeof d === 'number')) {
      throw dropoutError(node.name, 'training mode needs the static shape of its input after the batch axis');
    }
    if (ratio === 0) {
      node.output(0).replaceAllUsesWith(x);
      node.erase();
      continue;
    }
    const ctx = new GradientContext(model, type.dtype, Builder.before(node));
    const mask = model.graph.addInput(model.graph.uniqueName(`dropout_mask.${node.name || x.name}`), tensorType(type.dtype, type.shape));
    node.output(0).replaceAllUsesWith(ctx.op('Mul', [x, mask]));
    node.erase();
    masks.push({ input: mask.name, node: node.name, ratio, sampleShape: type.shape.slice(1) as number[] });
  }
  return masks;
}

/** A counter-based draw: the mask of (seed, step, index) does not depend on earlier steps. */
function maskGenerator(seed: number, step: number, index: number): () => number {
  return seededGenerator(Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35));
}

/** Fills `out` with the mask of dropout `index` at `step`: 0 with probability `ratio`, else 1/(1 − ratio). */
export function fillDropoutMask(out: Float32Array | Float64Array, ratio: number, seed: number, step: number, index: number): void {
  const random = maskGenerator(seed, step, index);
  const kept = 1 / (1 - ratio);
  for (let i = 0; i < out.length; i++) out[i] = random() < ratio ? 0 : kept;
}
