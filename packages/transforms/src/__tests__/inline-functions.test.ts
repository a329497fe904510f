import { describe, expect, it } from 'vitest';
import { ModelpassError, parseModel, printModel } from '@modelpass/ir';
import { inlineModelFunctions } from '@modelpass/transforms';

const model = (modelOpset: number, functionOpset: number, callAttribute = '') =>
  parseModel(`model ir_version=8 opsets{onnx=${modelOpset}, custom=1} {
func custom.Scale attrs["alpha"] defaults{alpha=2.0} opsets{onnx=${functionOpset}} graph @Scale(%X) {
  %a = onnx.Constant() {value_float=ref(float, "alpha")} name="alpha"
  %Y = onnx.Mul(%X, %a) name="mul"
  return %Y
}
graph @main(%x: float32[2]) {
  %y: float32[2] = custom.Scale(%x)${callAttribute} name="call"
  return %y
}
}`);

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ModelpassError);
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('inline-functions refusals', () => {
  it('refuses, naming the function, an opset the model imports at another version (model unchanged)', () => {
    const m = model(17, 15);
    const before = printModel(m);
    expect(refusal(() => inlineModelFunctions(m))).toMatch(/function 'custom\.Scale' \(called by node 'call'\) imports onnx opset 15, the model imports onnx opset 17/);
    expect(printModel(m)).toBe(before);
  });

  it('refuses a call attribute of another kind than the body reads', () => {
    expect(refusal(() => inlineModelFunctions(model(15, 15, ' {alpha=3}')))).toMatch(/node 'call' sets attribute 'alpha' of function 'custom\.Scale' as int; the body reads it as float/);
  });

  it('inlines when the versions agree and drops the function', () => {
    const m = model(15, 15);
    expect(inlineModelFunctions(m)).toEqual({ callsInlined: 1, nodesAdded: 2, functionsDropped: 1 });
    expect(m.functions).toHaveLength(0);
  });
});
