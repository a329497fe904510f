/**
 * Group-wise quantization that needs no data: each group's parameters come from its own values
 * (RTN, or HQQ's refined zero points), tile by tile, so a weight is never loaded whole unless a
 * group spans all of K (per-channel).
 */
import { encodeValue, maxCodeOf, rtnParams, type GroupParams, type GroupView } from './group-params.js';
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
  forEachWeightTile(layer, groupSize, (tile) => {
    for (let j = 0; j < tile.nCount; j++) {
      const n = tile.n0 + j;
      const row = j * tile.kCount;
      for (let offset = 0; offset < tile.kCount; offset += groupSize) {
        const length = Math.min(groupSize, tile.kCount - offset);
        const group = { values: tile.values, start: row + offset, length };
        const params = choose(group, scheme);
        const g = n * result.groups + (tile.k0 + offset) / groupSize;
        result.scales[g] = params.scale;
        result.zeroPoints[g] = params.zeroPoint;
        if (!Number.isInteger(params.zeroPoint)) result.fractionalZeroPoints = true;
        const codeStart = result.codeIndex(n, tile.k0 + offset);
        for (let i = 0; i < length; i++) result.codes[codeStart + i] = encodeValue(tile.values[row + offset + i]!, params, maxCode);
      }
    }
  });
  result.padWithZeroPoints();
  return result;
}
