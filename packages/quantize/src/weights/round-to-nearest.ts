/**
 * Group-wise quantization that needs no data: each group's parameters come from its own values
 * (RTN, or HQQ's refined zero points), tile by tile, so a weight is never loaded whole unless a
 * group spans all of K (per-channel).
 */
import { maxCodeOf, rtnParams, type GroupParams, type GroupView } from './group-params.js';
import { hqqParams, type HqqOptions } from './hqq.js';
import type { LinearLayer } from './linear-layers.js';
import { QuantizedWeight, type GroupQuantizationScheme } from './quantized-weight.js';
import { forEachWeightTile } from './weight-tiles.js';

export type GroupParamsChooser = (group: GroupView, scheme: GroupQuantizationScheme) => GroupParams;

export const rtnChooser: GroupParamsChooser = rtnParams;

export function hqqChooser(options: HqqOptions): GroupParamsChooser {
  return (group, scheme) => hqqParams(group, scheme, options);
}

/** Quantizes `layer`'s weight group by group with parameters from `choose`. */
export function quantizeGroupwise(layer: LinearLayer, scheme: GroupQuantizationScheme, choose: GroupParamsChooser): QuantizedWeight {
  const result = new QuantizedWeight(layer.k, layer.n, scheme);
  const maxCode = maxCodeOf(scheme.bits);
  const { groupSize } = scheme;
  const { codes, scales, zeroPoints, groups } = result;
  const codesPerRow = groups * groupSize;
  // one mutable view, re-aimed at each group (no allocation per group)
  const group: { values: Float32Array; start: number; length: number; stride: number } = { values: new Float32Array(0), start: 0, length: 0, stride: 1 };
  forEachWeightTile(layer, groupSize, (tile) => {
    const { values, rowStride, elementStride } = tile;
    group.values = values;
    group.stride = elementStride;
    for (let j = 0; j < tile.nCount; j++) {
      const n = tile.n0 + j;
      for (let offset = 0; offset < tile.kCount; offset += groupSize) {
        const length = Math.min(groupSize, tile.kCount - offset);
        const start = j * rowStride + offset * elementStride;
        group.start = start;
        group.length = length;
        const params = choose(group, scheme);
        const g = n * groups + (tile.k0 + offset) / groupSize;
        scales[g] = params.scale;
        zeroPoints[g] = params.zeroPoint;
        if (!Number.isInteger(params.zeroPoint)) result.fractionalZeroPoints = true;
        const inverse = 1 / params.scale;
        const zero = params.zeroPoint;
        const codeStart = n * codesPerRow + tile.k0 + offset;
        for (let i = 0, at = start; i < length; i++, at += elementStride) {
          const code = Math.round(values[at]! * inverse + zero);
          codes[codeStart + i] = code < 0 ? 0 : code > maxCode ? maxCode : code;
        }
      }
    }
  });
  result.padWithZeroPoints();
  return result;
}
