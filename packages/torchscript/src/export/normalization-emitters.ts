/** BatchNormalization, InstanceNormalization, LayerNormalization and Softmax/LogSoftmax as `torch.*_norm` and `torch.softmax`. */
import { pyFloat, pyInts, type OpEmitter } from './emit-context.js';
import { input } from './emit-operands.js';

const batchNormalization: OpEmitter = (e, node) => {
  if (node.attr('training_mode', 'int', 0) === 1) return e.fail(node, 'training_mode=1 (batch statistics and running-mean outputs)');
  const epsilon = node.attr('epsilon', 'float', 1e-5);
  const [x, scale, bias, mean, variance] = [0, 1, 2, 3, 4].map((i) => input(e, node, i));
  e.assign(node, `torch.batch_norm(${x}, ${scale}, ${bias}, ${mean}, ${variance}, False, 0.10000000000000001, ${pyFloat(epsilon)}, True)`);
};

/** InstanceNormalization (scale and bias [C], input rank ≥ 3): torch.instance_norm with the input's own statistics. */
const instanceNormalization: OpEmitter = (e, node) => {
  const rank = e.rank(node.inputs[0] ?? null);
  if (rank !== undefined && rank < 3) e.fail(node, `an input of rank ${rank} (InstanceNormalization takes N, C and at least one spatial dim)`);
  const [x, scale, bias] = [0, 1, 2].map((i) => input(e, node, i));
  e.assign(node, `torch.instance_norm(${x}, ${scale}, ${bias}, None, None, True, 0.10000000000000001, ${pyFloat(node.attr('epsilon', 'float', 1e-5))}, True)`);
};

const layerNormalization: OpEmitter = (e, node) => {
  const axis = node.attr('axis', 'int', -1);
  const scaleShape = e.constantOf(node.inputs[1])?.shape;
  const rank = e.rank(node.inputs[0] ?? null);
  if (!scaleShape) e.fail(node, 'the scale is not a constant (its shape gives normalized_shape)');
  if (axis >= 0 && rank === undefined) e.fail(node, 'a positive axis with the input rank unknown');
  const normalizedRank = axis < 0 ? -axis : rank! - axis;
  if (scaleShape!.length !== normalizedRank) e.fail(node, 'a scale that broadcasts over the normalized dims');
  const bias = node.inputs[2] ? input(e, node, 2) : 'None';
  e.assign(node, `torch.layer_norm(${input(e, node)}, ${pyInts(scaleShape!)}, ${input(e, node, 1)}, ${bias}, ${pyFloat(node.attr('epsilon', 'float', 1e-5))}, True)`);
};

/**
 * Softmax/LogSoftmax. Before opset 13 the op flattens the dims from `axis` (default 1) on into one and normalizes
 * over all of them: on the last axis that is torch's softmax; on another it is the softmax of torch.flatten(x, axis)
 * along its last dim, reshaped back (a rank-3 input with the default axis normalizes over dims 1 and 2 together).
 */
const softmax = (call: string): OpEmitter => (e, node) => {
  const x = input(e, node);
  if (e.onnxOpset >= 13) {
    e.assign(node, `torch.${call}(${x}, ${node.attr('axis', 'int', -1)})`);
    return;
  }
  const axis = node.attr('axis', 'int', 1);
  const rank = e.rank(node.inputs[0] ?? null);
  if (rank === undefined) return e.fail(node, `opset ${e.onnxOpset} flattens the dims from axis ${axis} on, and the input rank is unknown`);
  const positive = axis < 0 ? axis + rank : axis;
  if (positive === rank - 1) e.assign(node, `torch.${call}(${x}, ${positive})`);
  else e.assign(node, `torch._reshape_from_tensor(torch.${call}(torch.flatten(${x}, ${positive}), -1), torch._shape_as_tensor(${x}))`);
};

export const normalizationEmitters: ReadonlyArray<[string, OpEmitter]> = [
  ['onnx.BatchNormalization', batchNormalization],
  ['onnx.LayerNormalization', layerNormalization],
  ['onnx.InstanceNormalization', instanceNormalization],
  ['onnx.Softmax', softmax('softmax')],
  ['onnx.LogSoftmax', softmax('log_softmax')],
];
