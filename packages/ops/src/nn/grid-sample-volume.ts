/**
 * Volumetric GridSample (opset 20, 5-D): an input `[N, C, D, H, W]` sampled at a grid
 * `[N, Do, Ho, Wo, 3]` of normalized (x, y, z). As the 4-D kernel and ONNX Runtime: each coordinate
 * is denormalized, nearest rounds half to even, an outside point is moved inside by border (clamp)
 * or reflection padding, then linear mode weighs the 8 corners of its cell (each corner outside
 * reads 0 with zeros padding, the clamped/reflected voxel otherwise). Cubic mode is 4-D only in ONNX.
 */
import { roundHalfToEven } from '../util/elements.js';
import { denormalize, reflect } from './grid-sample.js';

export interface VolumeSampling {
  readonly mode: 'linear' | 'nearest';
  readonly padding: string;
  readonly alignCorners: boolean;
}

/** Samples `data` (`[n, c, d, h, w]`, row-major) at `points` (`[n, outD, outH, outW, 3]`): `[n, c, outD, outH, outW]` values. */
export function sampleVolume(data: ArrayLike<number>, shape: readonly number[], points: ArrayLike<number>, outShape: readonly number[], options: VolumeSampling): Float64Array {
  const [n, c, d, h, w] = shape as [number, number, number, number, number];
  const count = outShape.reduce((p, v) => p * v, 1);
  const out = new Float64Array(n * c * count);
  const lengths = [w, h, d];
  const bounds = lengths.map((length) => (options.alignCorners ? [0, length - 1] : [-0.5, length - 0.5]) as [number, number]);
  const voxel = (volume: number, z: number, y: number, x: number): number => {
    if (options.padding === 'zeros') return z < 0 || z >= d || y < 0 || y >= h || x < 0 || x >= w ? 0 : data[volume + (z * h + y) * w + x]!;
    let [k, r, q] = [z, y, x];
    if (options.padding === 'reflection') [q, r, k] = [x, y, z].map((v, axis) => Math.trunc(reflect(v, ...bounds[axis]!))) as [number, number, number];
    const clamp = (v: number, length: number) => Math.min(Math.max(v, 0), length - 1);
    return data[volume + (clamp(k, d) * h + clamp(r, h)) * w + clamp(q, w)]!;
  };
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < count; i++) {
      const at = (b * count + i) * 3;
      let p = [0, 1, 2].map((axis) => denormalize(points[at + axis]!, lengths[axis]!, options.alignCorners));
      if (options.mode === 'nearest') p = p.map(roundHalfToEven);
      if (p.some((v, axis) => v < bounds[axis]![0] || v > bounds[axis]![1])) {
        if (options.padding === 'border') p = p.map((v, axis) => Math.min(Math.max(v, 0), lengths[axis]! - 1));
        else if (options.padding === 'reflection') p = p.map((v, axis) => reflect(v, ...bounds[axis]!));
      }
      const [px, py, pz] = p as [number, number, number];
      for (let k = 0; k < c; k++) {
        const volume = (b * c + k) * d * h * w;
        let value = 0;
        if (options.mode === 'nearest') value = voxel(volume, pz, py, px);
        else {
          const [x0, y0, z0] = [Math.floor(px), Math.floor(py), Math.floor(pz)];
          const [dx, dy, dz] = [px - x0, py - y0, pz - z0];
          for (let corner = 0; corner < 8; corner++) {
            const [ox, oy, oz] = [corner & 1, (corner >> 1) & 1, (corner >> 2) & 1];
            const weight = (ox ? dx : 1 - dx) * (oy ? dy : 1 - dy) * (oz ? dz : 1 - dz);
            value += weight * voxel(volume, z0 + oz, y0 + oy, x0 + ox);
          }
        }
        out[(b * c + k) * count + i] = value;
      }
    }
  }
  return out;
}
