/**
 * The reference engine ran an int8 ReduceLogSum (log 21 truncated to 3), which ONNX's type constraints do not allow
 * and ONNX Runtime refuses at load. It now refuses such a model as the verifier does, also when the int8 operand is
 * an intermediate the model declares no type for (ONNX Runtime infers it); a model it takes runs as before.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, ModelpassError, printModel, Tensor, tensorType, type Model } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, ReferenceEngine, runOrt } from '@modelpass/runtime';

afterAll(() => disposeSharedOrtRunner());

const x = Tensor.fromValues('int32', [2, 3], [1, 2, 3, 4, 5, 6]);

/** y = ReduceLogSum(Cast(x, to)): the Cast's output is declared without a type, as ONNX files leave intermediates. */
function logSumOfCast(onnxType: number): Model {
  const b = new GraphBuilder();
  const input = b.input('x', tensorType('int32', [2, 3]));
  const cast = b.op1('onnx.Cast', [input], { to: attrs.int(onnxType) }, { name: 'cast' });
  b.output(b.op1('onnx.ReduceLogSum', [cast], { keepdims: attrs.int(0) }, { name: 'log_sum', outputs: ['y'] }));
  return b.model({ onnx: 17 });
}

async function refusal(run: Promise<unknown>): Promise<ModelpassError> {
  const error = await run.then(() => undefined, (e: unknown) => e);
  expect(ModelpassError.is(error)).toBe(true);
  return error as ModelpassError;
}

describe('the reference engine and ONNX type constraints', () => {
  it('refuses an int8 ReduceLogSum behind an untyped Cast, naming the node, as ONNX Runtime does; the model keeps its types', async () => {
    const model = logSumOfCast(3);
    const before = printModel(model);
    await expect(runOrt(encodeOnnx(model), { x })).rejects.toThrow(/Type 'tensor\(int8\)' of input parameter .* of operator \(ReduceLogSum\)/);
    const error = await refusal(new ReferenceEngine().run(model, { x }));
    expect(error.diagnostics[0]).toMatchObject({ code: 'runtime/type-constraint', source: '@modelpass/runtime' });
    expect(error.diagnostics[0]!.reason).toMatch(/the reference interpreter refuses model .*: a node takes an operand type that ONNX's type constraints for the op do not allow/);
    expect(error.diagnostics[1]).toMatchObject({ code: 'ops/type-constraint', location: { node: 'log_sum', op: 'onnx.ReduceLogSum' } });
    expect(error.diagnostics[1]!.reason).toMatch(/is int8, which ReduceLogSum-\d+'s type T does not allow/);
    expect(printModel(model)).toBe(before);
  });

  it('runs what the constraints allow (int32, float) and agrees with ONNX Runtime', async () => {
    for (const [dtype, onnxType] of [['int32', 6], ['float32', 1]] as const) {
      const model = logSumOfCast(onnxType);
      const reference = await new ReferenceEngine().run(model, { x });
      const onnxRuntime = await runOrt(encodeOnnx(model), { x });
      expect(reference.get('y')!.toNumbers(), dtype).toEqual(onnxRuntime.get('y')!.toNumbers());
    }
  });
});
