/**
 * The opset upgrade's rules for the resizing ops whose spelling changed by opset 13: Upsample (removed after
 * opset 9; scales an attribute in 7/8, an input in 9) and Resize-10 (X, scales), both of which map coordinates
 * asymmetrically (x_original = x_resized / scale). From opset 11 Resize reads (X, roi, scales, sizes) and defaults
 * to half_pixel coordinates, so both become a Resize with no roi, `coordinate_transformation_mode='asymmetric'` and,
 * for nearest, the rounding ONNX Runtime applies to the old ops: the whole-number part of the source coordinate
 * when the axis is enlarged, rounded up when it is shrunk (its `NearestMode::SIMPLE`) — `nearest_mode='floor'`
 * when no scale is below 1, `'ceil'` when none is above 1 (an axis of scale 1 maps to whole numbers either way).
 * A nearest resize whose scales are computed, or that enlarges one axis and shrinks another, has no single
 * opset-11 rounding that computes the same: it blocks the upgrade, named.
 */
import { attrs, Tensor, type Attribute, type Graph, type Node, type Value } from '@modelpass/ir';
import { readNumbers } from '@modelpass/ops';

/** The scales of an old resize: Upsample-7's attribute, or the constant scales input (Upsample-9, Resize-10). */
function scalesOf(node: Node): readonly number[] | undefined {
  const input = node.inputs[1];
  if (input) return input.constant ? Array.from(readNumbers(input.constant)) : undefined;
  return node.optionalAttr('scales', 'floats');
}

/** The opset-11 `nearest_mode` that rounds as ONNX Runtime did for these scales, or why none does. */
function nearestModeFor(scales: readonly number[] | undefined): 'floor' | 'ceil' | { blocked: string } {
  if (!scales) return { blocked: 'its scales are computed, and the nearest rounding ONNX Runtime applied depends on whether each is below 1' };
  const enlarges = scales.some((s) => s > 1);
  const shrinks = scales.some((s) => s < 1);
  if (enlarges && shrinks) return { blocked: `its scales [${scales.join(', ')}] enlarge one axis and shrink another, which ONNX Runtime rounded down and up respectively; one nearest_mode of Resize-11 cannot do both` };
  return shrinks ? 'ceil' : 'floor';
}

/** Why an Upsample or a Resize-10 cannot be spelled as a Resize-13 with the same outputs; undefined when it can. */
export function oldResizeBlocker(node: Node): string | undefined {
  if (node.hasAttribute('height_scale') || node.hasAttribute('width_scale')) return 'it has the experimental height_scale/width_scale attributes of Upsample-1';
  const mode = node.attr('mode', 'string', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear') return `its mode is '${mode}' (the old ops know 'nearest' and 'linear')`;
  if (!node.inputs[1] && !node.hasAttribute('scales')) return 'it has no scales (an attribute at opset 7, an input from opset 9)';
  if (mode === 'nearest') {
    const rounding = nearestModeFor(scalesOf(node));
    if (typeof rounding === 'object') return rounding.blocked;
  }
  return undefined;
}

/**
 * Replaces an Upsample or a Resize-10 (checked by `oldResizeBlocker`) by the opset-13 Resize computing the same, under
 * the node's name and producing its output value (a graph output keeps its name).
 */
export function upgradeOldResize(node: Node, graph: Graph): string | undefined {
  const blocked = oldResizeBlocker(node);
  if (blocked) return blocked;
  const mode = node.attr('mode', 'string', 'nearest');
  const scaleAttribute = node.optionalAttr('scales', 'floats');
  const nearestMode = mode === 'nearest' ? nearestModeFor(scalesOf(node)) : undefined;
  const scales: Value =
    node.inputs[1] ?? graph.addConstant(graph.uniqueName(`${node.name || 'Upsample'}_scales`), Tensor.fromValues('float32', [scaleAttribute!.length], scaleAttribute!));
  const attributes: Record<string, Attribute> = {
    mode: attrs.string(mode),
    coordinate_transformation_mode: attrs.string('asymmetric'),
    ...(typeof nearestMode === 'string' ? { nearest_mode: attrs.string(nearestMode) } : {}),
  };
  const output = node.outputs[0];
  const name = node.name;
  // The old node gives its name up first: erasing it then leaves the name taken in the graph's record of node names.
  node.name = '';
  const resize = graph.createNode({ op: 'onnx.Resize', name, loc: node.loc, inputs: [node.inputs[0] ?? null, null, scales], attributes, outputs: 0, before: node });
  if (output) graph.adoptOutput(output, resize, 0);
  node.erase();
  return undefined;
}
