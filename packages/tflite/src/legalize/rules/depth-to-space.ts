import { Tensor, type Node } from '@modelpass/ir';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, TfliteEmitter, typeWithShape } from '../lowering-tools.js';
import { channelsLastType, toChannelsFirst, toChannelsLast } from './channels-last.js';

/**
 * DepthToSpace → DEPTH_TO_SPACE (NHWC). TFLite's builtin is ONNX's DCR mode; CRD (PyTorch's
 * PixelShuffle) reads channel `c·b² + i·b + j` where DCR reads `(i·b + j)·C + c`, so a GATHER on the
 * channel axis reorders the channels first.
 */
function check(node: Node): string | undefined {
  const dims = dimsOf(node.inputs[0]);
  if (!dims) return 'needs the input rank (run shape inference first)';
  if (dims.length !== 4) return `only rank-4 (NCHW) inputs map to TFLite; this one has rank ${dims.length}`;
  const mode = node.optionalAttr('mode', 'string') ?? 'DCR';
  if (mode !== 'DCR' && mode !== 'CRD') return `unknown DepthToSpace mode '${mode}'`;
  if (mode === 'CRD' && typeof dims[1] !== 'number') return "mode 'CRD' needs a static channel count";
  return undefined;
}

/** For DCR position k: the CRD channel that holds the same (c, i, j). */
function crdToDcrOrder(channels: number, block: number): number[] {
  const outChannels = channels / (block * block);
  return Array.from({ length: channels }, (_, k) => (k % outChannels) * block * block + Math.floor(k / outChannels));
}

const depthToSpace: LoweringRule = {
  ops: ['onnx.DepthToSpace'],
  stage: 'layout',
  targets: ['DEPTH_TO_SPACE', 'GATHER'],
  check,
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const block = node.attr('blocksize', 'int');
    let x = toChannelsLast(emit, node.input(0));
    if ((node.optionalAttr('mode', 'string') ?? 'DCR') === 'CRD') {
      const channels = dimsOf(node.inputs[0])![1] as number;
      const order = emit.constant(Tensor.fromValues('int32', [channels], crdToDcrOrder(channels, block)), 'crd_order');
      x = emit.op1('GATHER', [x, order], { axis: 3, batch_dims: 0 }, typeWithShape(x.type, dimsOf(x)!));
    }
    const y = emit.op1('DEPTH_TO_SPACE', [x], { block_size: block }, channelsLastType(node));
    replaceNode(node, [toChannelsFirst(emit, y)]);
  },
};

export const depthToSpaceRules: readonly LoweringRule[] = [depthToSpace];
