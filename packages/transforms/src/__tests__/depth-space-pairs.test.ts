import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, verifyModel, type Model, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { canonicalize } from '@modelpass/transforms';
import { evaluate, expectClose, opsOf, randomTensor, runPass } from './helpers.js';

const ints = (values: readonly number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

type Move = (b: GraphBuilder, x: Value) => Value;

/** torch 1.13's pixel_shuffle(·, 2) of [1, 8, 3, 4]: DepthToSpace CRD. */
const shuffleCrd: Move = (b, x) => b.op1('onnx.DepthToSpace', [x], { blocksize: attrs.int(2), mode: attrs.string('CRD') });
const depthToSpaceDcr: Move = (b, x) => b.op1('onnx.DepthToSpace', [x], { blocksize: attrs.int(2), mode: attrs.string('DCR') });
const spaceToDepth: Move = (b, x) => b.op1('onnx.SpaceToDepth', [x], { blocksize: attrs.int(2) });
/** pixel_shuffle(·, 2) of [1, 8, 3, 4] as older exports spell it: Reshape → Transpose → Reshape (CRD order). */
const shuffleChain: Move = (b, x) =>
  b.op1('onnx.Reshape', [b.op1('onnx.Transpose', [b.op1('onnx.Reshape', [x, b.constant(ints([1, 2, 2, 2, 3, 4]), 'split')])], { perm: attrs.ints([0, 1, 4, 2, 5, 3]) }), b.constant(ints([1, 2, 6, 8]), 'merged')]);
/** torch 1.13's pixel_unshuffle(·, 2) of [1, 2, 6, 8]: Reshape → Transpose → Reshape (channel c·4 + i·2 + j). */
const unshuffleChain: Move = (b, x) =>
  b.op1('onnx.Reshape', [b.op1('onnx.Transpose', [b.op1('onnx.Reshape', [x, b.constant(ints([1, 2, 3, 2, 4, 2]), 'split')])], { perm: attrs.ints([0, 1, 3, 5, 2, 4]) }), b.constant(ints([1, 8, 3, 4]), 'merged')]);

/** Relu(x) → first → second → Relu, x of `input`. */
function pairModel(input: number[], first: Move, second: Move): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', input));
  b.output(b.op1('onnx.Relu', [second(b, first(b, b.op1('onnx.Relu', [x])))]));
  const model = b.model({ onnx: 17 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

const MOVES = ['DepthToSpace', 'SpaceToDepth', 'Reshape', 'Transpose'];

describe('cancel-depth-space-pairs (canonicalize)', () => {
  const cancelled: { name: string; input: number[]; first: Move; second: Move }[] = [
    { name: 'pixel_unshuffle(pixel_shuffle(x, 2), 2) as torch 1.13 exports it (DepthToSpace CRD, then a chain)', input: [1, 8, 3, 4], first: shuffleCrd, second: unshuffleChain },
    { name: 'pixel_shuffle(pixel_unshuffle(x, 2), 2) (a chain, then DepthToSpace CRD)', input: [1, 2, 6, 8], first: unshuffleChain, second: shuffleCrd },
    { name: 'both as Reshape → Transpose → Reshape chains', input: [1, 8, 3, 4], first: shuffleChain, second: unshuffleChain },
    { name: 'DepthToSpace DCR then SpaceToDepth', input: [1, 8, 3, 4], first: depthToSpaceDcr, second: spaceToDepth },
    { name: 'SpaceToDepth then DepthToSpace DCR', input: [1, 2, 6, 8], first: spaceToDepth, second: depthToSpaceDcr },
  ];
  for (const testCase of cancelled) {
    it(`${testCase.name}: the pair is gone, the same numbers`, async () => {
      const model = pairModel(testCase.input, testCase.first, testCase.second);
      const x = randomTensor(testCase.input, 3, -0.5);
      const [expected] = evaluate(model, { x });
      const run = await runPass(canonicalize, model);
      expect(opsOf(model)).toEqual(['Relu', 'Relu']);
      expect(run.statistics.get('nodes-fused')).toBeGreaterThanOrEqual(1);
      expect(verifyModel(model).filter((d) => d.severity === 'error')).toEqual([]);
      expectClose(evaluate(model, { x })[0]!, expected!, 0);
    });
  }

  const kept: { name: string; input: number[]; first: Move; second: Move }[] = [
    // DCR then torch's unshuffle order: a channel permutation, not the identity.
    { name: 'DepthToSpace DCR then pixel_unshuffle', input: [1, 8, 3, 4], first: depthToSpaceDcr, second: unshuffleChain },
    { name: 'pixel_shuffle (CRD) then SpaceToDepth', input: [1, 8, 3, 4], first: shuffleCrd, second: spaceToDepth },
    { name: 'DepthToSpace block 2 then SpaceToDepth block 4', input: [1, 16, 2, 2], first: depthToSpaceDcr, second: (b, x) => b.op1('onnx.SpaceToDepth', [x], { blocksize: attrs.int(4) }) },
  ];
  for (const testCase of kept) {
    it(`${testCase.name}: kept (the orders do not compose to the identity)`, async () => {
      const model = pairModel(testCase.input, testCase.first, testCase.second);
      const before = opsOf(model);
      const x = randomTensor(testCase.input, 3, -0.5);
      const [expected] = evaluate(model, { x });
      await runPass(canonicalize, model);
      expect(opsOf(model).filter((op) => MOVES.includes(op))).toEqual(before.filter((op) => MOVES.includes(op)));
      expectClose(evaluate(model, { x })[0]!, expected!, 0);
    });
  }
});
