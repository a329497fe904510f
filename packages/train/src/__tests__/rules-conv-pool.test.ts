/** Conv (groups, strides, dilations, pads, auto_pad, 1-D and 2-D), pools and BatchNormalization against finite differences. */
import { attrs, Tensor, type Attribute } from '@modelpass/ir';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { f64, gradCheck, randomTensor, seeded } from './gradcheck.js';

describe('Conv', () => {
  it('matches finite differences over random geometry', () => {
    fc.assert(fc.property(
      fc.record({
        spatialRank: fc.constantFrom(1, 2), group: fc.constantFrom(1, 2), inPerGroup: fc.integer({ min: 1, max: 2 }),
        outPerGroup: fc.integer({ min: 1, max: 2 }), kernel: fc.integer({ min: 1, max: 3 }), stride: fc.integer({ min: 1, max: 2 }),
        dilation: fc.integer({ min: 1, max: 2 }), padBegin: fc.integer({ min: 0, max: 1 }), padEnd: fc.integer({ min: 0, max: 1 }),
        extra: fc.integer({ min: 0, max: 2 }), bias: fc.boolean(), autoPad: fc.constantFrom('NOTSET', 'NOTSET', 'SAME_UPPER', 'VALID'),
      }),
      fc.integer({ min: 1, max: 1000 }),
      (p, seed) => {
        const rng = seeded(seed);
        const size = (p.kernel - 1) * p.dilation + 1 + p.extra;
        const xShape = [1, p.group * p.inPerGroup, ...new Array<number>(p.spatialRank).fill(size)];
        const wShape = [p.group * p.outPerGroup, p.inPerGroup, ...new Array<number>(p.spatialRank).fill(p.kernel)];
        const attributes = {
          group: attrs.int(p.group), strides: attrs.ints(new Array(p.spatialRank).fill(p.stride)),
          dilations: attrs.ints(new Array(p.spatialRank).fill(p.dilation)),
          ...(p.autoPad === 'NOTSET'
            ? { pads: attrs.ints([...new Array(p.spatialRank).fill(p.padBegin), ...new Array(p.spatialRank).fill(p.padEnd)]) }
            : { auto_pad: attrs.string(p.autoPad) }),
        };
        const feeds: Record<string, Tensor> = { x: randomTensor(rng, xShape), w: randomTensor(rng, wShape) };
        if (p.bias) feeds.b = randomTensor(rng, [wShape[0]!]);
        const result = gradCheck({
          build: (g) => {
            const inputs = [g.input('x', f64(xShape)), g.input('w', f64(wShape))];
            if (p.bias) inputs.push(g.input('b', f64([wShape[0]!])));
            const y = g.op1('onnx.Conv', inputs, attributes);
            return g.op1('onnx.ReduceSum', [g.op1('onnx.Mul', [y, y])], { keepdims: attrs.int(0) });
          },
          feeds, lossFeeds: { target: Tensor.scalar('float64', 0.5) }, wrt: Object.keys(feeds),
        });
        expect(result.maxRelError).toBeLessThan(1e-5);
      }), { numRuns: 12, seed: 2 });
  });

  it('2-D with one group matches finite differences in the weights: per-axis strides, dilations, asymmetric pads, a batch of 2', () => {
    fc.assert(fc.property(
      fc.record({
        inChannels: fc.integer({ min: 1, max: 3 }), outChannels: fc.integer({ min: 1, max: 3 }),
        kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }),
        sy: fc.integer({ min: 1, max: 2 }), sx: fc.integer({ min: 1, max: 3 }), dy: fc.integer({ min: 1, max: 2 }), dx: fc.integer({ min: 1, max: 2 }),
        pads: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }), extraH: fc.integer({ min: 0, max: 3 }), extraW: fc.integer({ min: 0, max: 3 }),
      }),
      fc.integer({ min: 1, max: 1000 }),
      (p, seed) => {
        const rng = seeded(seed);
        const xShape = [2, p.inChannels, (p.kh - 1) * p.dy + 1 + p.extraH, (p.kw - 1) * p.dx + 1 + p.extraW];
        const wShape = [p.outChannels, p.inChannels, p.kh, p.kw];
        const attributes = { strides: attrs.ints([p.sy, p.sx]), dilations: attrs.ints([p.dy, p.dx]), pads: attrs.ints(p.pads) };
        const result = gradCheck({
          build: (g) => {
            const y = g.op1('onnx.Conv', [g.input('x', f64(xShape)), g.input('w', f64(wShape))], attributes);
            return g.op1('onnx.ReduceSum', [g.op1('onnx.Mul', [y, y])], { keepdims: attrs.int(0) });
          },
          feeds: { x: randomTensor(rng, xShape), w: randomTensor(rng, wShape) }, lossFeeds: { target: Tensor.scalar('float64', 0.5) }, wrt: ['w'],
        });
        expect(result.maxRelError).toBeLessThan(1e-5);
      }), { numRuns: 10, seed: 7 });
  });
});

describe('pools', () => {
  it('MaxPool (overlapping windows, pads, strides) matches finite differences', () => {
    const rng = seeded(9);
    const cases: [Record<string, Attribute>, number[]][] = [
      [{ kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]) }, [2, 2, 2, 2]],
      [{ kernel_shape: attrs.ints([3, 3]), strides: attrs.ints([1, 2]), pads: attrs.ints([1, 1, 1, 0]) }, [2, 2, 5, 2]],
    ];
    for (const [attributes, outShape] of cases) {
      const result = gradCheck({
        build: (g) => g.op1('onnx.MaxPool', [g.input('x', f64([2, 2, 5, 4]))], attributes),
        feeds: { x: randomTensor(rng, [2, 2, 5, 4]) },
        lossFeeds: { target: randomTensor(rng, outShape) }, wrt: ['x'],
      });
      expect(result.maxRelError).toBeLessThan(1e-5);
    }
  });

  it('AveragePool and GlobalAveragePool match finite differences', () => {
    const rng = seeded(4);
    const average = gradCheck({
      build: (g) => g.op1('onnx.AveragePool', [g.input('x', f64([1, 2, 5, 5]))], { kernel_shape: attrs.ints([3, 2]), strides: attrs.ints([2, 1]), pads: attrs.ints([1, 0, 0, 1]), count_include_pad: attrs.int(1) }),
      feeds: { x: randomTensor(rng, [1, 2, 5, 5]) }, lossFeeds: { target: randomTensor(rng, [1, 2, 2, 5]) }, wrt: ['x'],
    });
    expect(average.maxRelError).toBeLessThan(1e-5);
    const global = gradCheck({
      build: (g) => g.op1('onnx.GlobalAveragePool', [g.input('x', f64([2, 3, 2, 3]))]),
      feeds: { x: randomTensor(rng, [2, 3, 2, 3]) }, lossFeeds: { target: randomTensor(rng, [2, 3, 1, 1]) }, wrt: ['x'],
    });
    expect(global.maxRelError).toBeLessThan(1e-5);
  });
});

describe('BatchNormalization (inference mode)', () => {
  it('matches finite differences for the input, scale and bias', () => {
    const rng = seeded(6);
    const result = gradCheck({
      build: (g) => g.op1('onnx.BatchNormalization', [
        g.input('x', f64([2, 3, 2, 2])), g.input('scale', f64([3])), g.input('bias', f64([3])),
        g.constant(randomTensor(rng, [3]), 'mean'), g.constant(randomTensor(rng, [3], 0.5, 1), 'var'),
      ], { epsilon: attrs.float(1e-3) }),
      feeds: { x: randomTensor(rng, [2, 3, 2, 2]), scale: randomTensor(rng, [3]), bias: randomTensor(rng, [3]) },
      lossFeeds: { target: randomTensor(rng, [2, 3, 2, 2]) }, wrt: ['x', 'scale', 'bias'],
    });
    expect(result.maxRelError).toBeLessThan(1e-5);
  });
});

describe('ConvTranspose', () => {
  it('matches finite differences over random geometry (groups, strides, dilations, pads, output_padding)', () => {
    fc.assert(fc.property(
      fc.record({
        spatialRank: fc.constantFrom(1, 2), group: fc.constantFrom(1, 2), inPerGroup: fc.integer({ min: 1, max: 2 }),
        outPerGroup: fc.integer({ min: 1, max: 2 }), kernel: fc.integer({ min: 1, max: 3 }), stride: fc.integer({ min: 1, max: 2 }),
        dilation: fc.integer({ min: 1, max: 2 }), padBegin: fc.integer({ min: 0, max: 1 }), padEnd: fc.integer({ min: 0, max: 1 }),
        size: fc.integer({ min: 2, max: 3 }), outputPadding: fc.boolean(), bias: fc.boolean(),
      }),
      fc.integer({ min: 1, max: 1000 }),
      (p, seed) => {
        const rng = seeded(seed);
        const n = p.spatialRank;
        const outputPadding = p.outputPadding && p.stride > 1 ? 1 : 0;
        const xShape = [1, p.group * p.inPerGroup, ...new Array<number>(n).fill(p.size)];
        const wShape = [p.group * p.inPerGroup, p.outPerGroup, ...new Array<number>(n).fill(p.kernel)];
        const feeds: Record<string, Tensor> = { x: randomTensor(rng, xShape), w: randomTensor(rng, wShape) };
        if (p.bias) feeds.b = randomTensor(rng, [p.group * p.outPerGroup]);
        const outSize = p.stride * (p.size - 1) + outputPadding + (p.kernel - 1) * p.dilation + 1 - p.padBegin - p.padEnd;
        fc.pre(outSize >= 1);
        const result = gradCheck({
          build: (g) => {
            const inputs = [g.input('x', f64(xShape)), g.input('w', f64(wShape))];
            if (p.bias) inputs.push(g.input('b', f64([p.group * p.outPerGroup])));
            const y = g.op1('onnx.ConvTranspose', inputs, {
              group: attrs.int(p.group), strides: attrs.ints(new Array(n).fill(p.stride)), dilations: attrs.ints(new Array(n).fill(p.dilation)),
              pads: attrs.ints([...new Array(n).fill(p.padBegin), ...new Array(n).fill(p.padEnd)]), output_padding: attrs.ints(new Array(n).fill(outputPadding)),
            });
            return g.op1('onnx.ReduceSum', [g.op1('onnx.Mul', [y, y])], { keepdims: attrs.int(0) });
          },
          feeds, lossFeeds: { target: Tensor.scalar('float64', 0.5) }, wrt: Object.keys(feeds),
        });
        expect(result.maxRelError).toBeLessThan(1e-5);
      }), { numRuns: 12, seed: 3 });
  });
});
