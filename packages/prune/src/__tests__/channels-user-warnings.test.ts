/**
 * What prune-channels tells a user without --debug, on small models built here:
 * - BatchNormalization after a layer that lost input channels keeps statistics measured before
 *   pruning (fashion-resnet at ratio 0.25 collapsed to one class, silently): a warning naming the
 *   BatchNorms and `reconstruct{…}`, and the `batchnorms-stale` statistic; numbers unchanged.
 * - a prunable group that keeps every channel says which limit did it (ratio, round-to, the
 *   granularity of a grouped Conv), counted in `groups-untouched` and one `info` line.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';
import { runPrune } from './channels-harness.js';

function weights(shape: number[], seed: number): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromValues('float32', shape, Array.from({ length: count }, (_, i) => Math.sin(seed * 7.1 + i * 1.3)));
}

function vector(n: number, value: number): Tensor {
  return Tensor.fromValues('float32', [n], Array.from({ length: n }, () => value));
}

function batchNorm(g: GraphBuilder, x: Value, channels: number, name: string): Value {
  return g.op1('onnx.BatchNormalization', [x, g.constant(vector(channels, 1), `${name}.gamma`), g.constant(vector(channels, 0), `${name}.beta`), g.constant(vector(channels, 0.1), `${name}.mean`), g.constant(vector(channels, 2), `${name}.var`)], {}, { name });
}

function conv(g: GraphBuilder, x: Value, shape: number[], name: string, group = 1): Value {
  return g.op1('onnx.Conv', [x, g.constant(weights(shape, shape.length + name.length), `${name}.weight`)], { kernel_shape: attrs.ints([1, 1]), group: attrs.int(group) }, { name });
}

/** x → conv1 → bn1 → relu → conv2 → bn2 → relu → conv3: bn2 reads conv2, which loses input channels. */
function convBnStack(): Model {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', [1, 3, 4, 4]));
  const a = g.op1('onnx.Relu', [batchNorm(g, conv(g, x, [8, 3, 1, 1], 'conv1'), 8, 'bn1')], {}, { name: 'relu1' });
  const b = g.op1('onnx.Relu', [batchNorm(g, conv(g, a, [8, 8, 1, 1], 'conv2'), 8, 'bn2')], {}, { name: 'relu2' });
  g.output(conv(g, b, [2, 8, 1, 1], 'conv3'));
  return g.model({ onnx: 17 });
}

describe('prune-channels warnings a user sees', () => {
  it('warns that the BatchNorm after a layer that lost input channels has stale statistics, naming reconstruct', async () => {
    const model = convBnStack();
    const { statistics, result } = await runPrune(model, 'prune-channels{ratio=0.5}');
    expect(statistics['channels-removed']).toBe(8);
    expect(statistics['batchnorms-stale']).toBe(1);
    const warning = result.diagnostics.find((d) => d.reason.includes('BatchNormalization'));
    expect(warning?.severity).toBe('warning');
    expect(warning?.reason).toContain("1 BatchNormalization node(s) ('bn2') follow layers that lost input channels and still hold the statistics measured before pruning");
    // true whether or not a recovering pass follows in the pipeline (a pass cannot see the rest of it)
    expect(warning?.reason).toContain('unless a later pass refits those layers or fine-tunes (reconstruct, train, distill)');
    expect(warning?.code).toBe('prune/batchnorms-stale');
    expect(warning?.hint).toContain('reconstruct{dataset=');
    // bn1 follows conv1, which lost only output channels: its kept channels' statistics still hold.
    expect(warning?.reason).not.toContain('bn1');
    // the statistics themselves are only sliced, never changed
    expect(model.graph.getValue('bn2.mean')!.constant!.toNumbers()).toEqual(Array(4).fill(Math.fround(0.1)));
  });

  it('says nothing about BatchNorm when none follows a layer that lost input channels', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', tensorType('float32', [1, 3, 4, 4]));
    const a = g.op1('onnx.Relu', [batchNorm(g, conv(g, x, [8, 3, 1, 1], 'conv1'), 8, 'bn1')], {}, { name: 'relu1' });
    g.output(conv(g, a, [2, 8, 1, 1], 'conv2'));
    const { statistics, result } = await runPrune(g.model({ onnx: 17 }), 'prune-channels{ratio=0.5}');
    expect(statistics['channels-removed']).toBe(4);
    expect(statistics['batchnorms-stale'] ?? 0).toBe(0);
    expect(result.diagnostics.filter((d) => d.reason.includes('BatchNormalization'))).toEqual([]);
  });

  it('names round-to with the blocks of a grouped Conv when no allowed count is a multiple of it', async () => {
    // conv1 makes 104 channels read by a grouped conv with 13 groups of 8 (as in RegNet): 13 blocks of 8.
    const g = new GraphBuilder();
    const x = g.input('x', tensorType('float32', [1, 3, 4, 4]));
    const a = g.op1('onnx.Relu', [conv(g, x, [104, 3, 1, 1], 'conv1')], {}, { name: 'relu1' });
    const b = g.op1('onnx.Relu', [conv(g, a, [104, 8, 1, 1], 'grouped', 13)], {}, { name: 'relu2' });
    g.output(conv(g, b, [2, 104, 1, 1], 'head'));
    const { statistics, result } = await runPrune(g.model({ onnx: 17 }), 'prune-channels{ratio=0.5 round-to=8}');
    expect(statistics['groups-untouched']).toBe(2);
    const info = result.diagnostics.find((d) => d.reason.includes('left untouched'));
    expect(info?.severity).toBe('info');
    expect(info?.reason).toBe('prune-channels: 2 of 2 prunable channel group(s) left untouched: 2 by round-to=8');
    expect(info?.notes?.[0]).toContain('round-to=8: the ratio allows keeping 91, 78, 65, 52 of 104 channels (13 blocks of 8: a grouped Conv removes the same number from each of its groups), none a multiple of 8');
  });

  it('names the ratio and the one-channel-per-group granularity', async () => {
    // conv1: 4 channels, ratio 0.1 removes none. grouped (group=4, 2 inputs each) makes 4 outputs: blocks of one.
    const g = new GraphBuilder();
    const x = g.input('x', tensorType('float32', [1, 3, 4, 4]));
    const a = g.op1('onnx.Relu', [conv(g, x, [8, 3, 1, 1], 'conv1')], {}, { name: 'relu1' });
    const b = g.op1('onnx.Relu', [conv(g, a, [4, 2, 1, 1], 'grouped', 4)], {}, { name: 'relu2' });
    g.output(conv(g, b, [2, 4, 1, 1], 'head'));
    const { statistics, result } = await runPrune(g.model({ onnx: 17 }), 'prune-channels{ratio=0.4}');
    expect(statistics['groups-untouched']).toBe(2);
    const info = result.diagnostics.find((d) => d.reason.includes('left untouched'));
    expect(info?.reason).toBe('prune-channels: 2 of 2 prunable channel group(s) left untouched: 1 by the ratio removes less than one channel; 1 by group granularity (one channel per group of a grouped Conv)');
    expect(info?.notes?.join('\n')).toContain('ratio: 0.4 of 2 channels per block is less than one channel (4 blocks of 2');
    expect(info?.notes?.join('\n')).toContain('group granularity: 4 blocks of one channel each (a grouped Conv with 4 groups keeps at least one per group)');
  });
});
