/**
 * QA s20: `compare sr_traced.pt sr.tflite` (the .tflite converted with --io-layout nhwc) fed the .tflite its input
 * channels-last but compared its output [1,48,64,3] with torch's [1,3,48,64]: torch returns its outputs by position,
 * they took the .tflite's names only after the NHWC outputs were read back by name, so none was. The names are now
 * aligned first. Two stand-in engines: the first answers by position (as torch does), the second echoes its feed.
 * With the channels-last model first, the feeds (laid out for the second model only) would reach the NCHW model as
 * NHWC and fail in its engine ('index: 2 Got: 32 Expected: 24'): that order is refused, naming the input.
 */
import { GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { compareModels, type Engine } from '@modelpass/runtime';
import { recordChannelsLastIo } from '@modelpass/tflite';
import { expect, it } from 'vitest';

function identity(shape: number[]): Model {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', shape));
  g.output(g.op1('onnx.Identity', [x], {}, { name: 'y' }));
  return g.model({ onnx: 13 });
}

/** Returns the feed `x` as its only output, under `outputName`. */
function echo(name: string, outputName: string, positionalOutputs: boolean): Engine {
  return {
    name,
    ...(positionalOutputs ? { positionalOutputs } : {}),
    run: async (_model, feeds) => new Map([[outputName, (feeds as ReadonlyMap<string, Tensor>).get('x')!]]),
    dispose: async () => {},
  } as Engine;
}

it('a first model answering by position reads the NHWC outputs of the second back to NCHW and agrees', async () => {
  const first = identity([1, 3, 4, 5]);
  const second = identity([1, 4, 5, 3]);
  const report = await compareModels(first, second, {
    engines: [echo('by-position', 'output_0', true), echo('by-name', 'y', false)],
    modelA: first,
    modelB: second,
    seed: 1,
  });
  expect(report.perOutput.map((o) => [o.name, o.maxAbsError])).toEqual([['y', 0]]);
  expect(report.layoutNotes).toContain("output 'y' of the second model read back from NHWC to NCHW");
});

it('a channels-last model first (an --io-layout nhwc .tflite) is refused with the order to give, before any run', async () => {
  const first = identity([1, 4, 5, 3]);
  recordChannelsLastIo(first, { inputs: ['x'], outputs: ['y'] });
  const second = identity([1, 3, 4, 5]);
  let runs = 0;
  const counting: Engine = { name: 'counting', run: async () => (runs++, new Map()), dispose: async () => {} };
  await expect(compareModels(first, second, { engines: [counting, counting], modelA: first, modelB: second, seed: 1 })).rejects.toThrow(
    "the first model takes 'x' channels-last (its io-layout record says nhwc) and the second model does not",
  );
  expect(runs).toBe(0);
});
