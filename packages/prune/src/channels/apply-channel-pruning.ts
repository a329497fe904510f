/**
 * Removes the channels the groups dropped, for real: every parameter axis is sliced with the tensor
 * toolkit, grouped-convolution weights row by row, and the shape/attribute fixups are applied.
 */
import { takeAlongAxis, Tensor, type Value } from '@modelpass/ir';
import { keptIndices, layoutChanged } from './channel-layout.js';
import type { ChannelAnalysis, GroupedConvWeight } from './dependency-groups.js';

export interface AppliedPruning {
  readonly paramsSliced: number;
  readonly parametersBefore: number;
  readonly parametersAfter: number;
  readonly fixups: number;
}

function elements(value: Value): number {
  return value.constant ? value.constant.shape.reduce((a, b) => a * b, 1) : 0;
}

/** Slices a grouped Conv's weight [O, C/g, kh, kw] so that each output row keeps its block's inputs. */
function sliceGroupedWeight(analysis: ChannelAnalysis, grouped: GroupedConvWeight, originalOut: number): void {
  const weightValue = grouped.node.inputs[1]!;
  const weight = weightValue.constant!;
  const output = analysis.trackedOf(grouped.node.outputs[0]);
  const outKept = output ? keptIndices(output.layout) : Array.from({ length: originalOut }, (_, i) => i);
  const inKept = keptIndices(grouped.input);
  const perGroupIn = weight.shape[1]!;
  const perGroupOut = originalOut / grouped.groups;
  const inner = weight.shape.slice(2).reduce((a, b) => a * b, 1);
  const localKept: number[][] = Array.from({ length: grouped.groups }, (_, g) => inKept.filter((c) => c >= g * perGroupIn && c < (g + 1) * perGroupIn).map((c) => c - g * perGroupIn));
  const newPerGroupIn = localKept[0]!.length;
  const source = weight.toNumbers();
  const values = new Array<number>(outKept.length * newPerGroupIn * inner);
  for (let row = 0; row < outKept.length; row++) {
    const locals = localKept[Math.floor(outKept[row]! / perGroupOut)]!;
    for (let j = 0; j < newPerGroupIn; j++) {
      const from = (row * perGroupIn + locals[j]!) * inner;
      const to = (row * newPerGroupIn + j) * inner;
      for (let k = 0; k < inner; k++) values[to + k] = source[from + k]!;
    }
  }
  weightValue.setConstant(Tensor.fromValues(weight.dtype, [outKept.length, newPerGroupIn, ...weight.shape.slice(2)], values));
}

export function applyChannelPruning(analysis: ChannelAnalysis): AppliedPruning {
  const touched = new Set<Value>();
  for (const param of analysis.params) touched.add(param.value);
  for (const grouped of analysis.groupedWeights) touched.add(grouped.node.inputs[1]!);
  let parametersBefore = 0;
  for (const value of touched) parametersBefore += elements(value);
  const groupedOut = new Map(analysis.groupedWeights.map((g) => [g, g.node.inputs[1]!.constant!.shape[0]!]));
  const unusedBefore = new Set(analysis.model.graph.constants.filter((constant) => !constant.hasUses));
  let paramsSliced = 0;
  for (const param of analysis.params) {
    if (!layoutChanged(param.layout) || !param.value.constant) continue;
    param.value.setConstant(takeAlongAxis(param.value.constant, param.axis, keptIndices(param.layout)));
    paramsSliced++;
  }
  for (const grouped of analysis.groupedWeights) {
    if (!layoutChanged(grouped.input)) continue;
    sliceGroupedWeight(analysis, grouped, groupedOut.get(grouped)!);
    paramsSliced++;
  }
  let fixups = 0;
  for (const fixup of analysis.fixups) {
    if (!layoutChanged(fixup.layout)) continue;
    fixup.apply();
    fixups++;
  }
  for (const constant of [...analysis.model.graph.constants]) {
    if (!unusedBefore.has(constant) && !constant.hasUses && !constant.isGraphOutput && !constant.isGraphInput) analysis.model.graph.removeConstant(constant);
  }
  let parametersAfter = 0;
  for (const value of touched) parametersAfter += elements(value);
  return { paramsSliced, parametersBefore, parametersAfter, fixups };
}
