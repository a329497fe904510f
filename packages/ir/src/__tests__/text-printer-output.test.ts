import { describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, attrs, modelsEqual, parseModel, printModel, tensorType } from '@modelpass/ir';

describe('printer output text', () => {
  it('keeps non-ASCII text exact, also past buffer growth', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', ['N', 2]));
    let value = x;
    for (let i = 0; i < 3000; i++) {
      const node = b.node('onnx.LeakyRelu', [value], { alpha: attrs.float(0.5), note: attrs.string(`naïve ${i} 😀 \ud800 ✓`) }, { name: `ü${i}` });
      node.docString = 'Größe → 𝔸';
      value = node.output();
    }
    b.output(value);
    const model = b.model();
    const text = printModel(model);
    expect(text).toContain('note="naïve 0 😀 \\u{d800} ✓"} name="ü0" doc="Größe → 𝔸"');
    expect(text.length).toBeGreaterThan(1 << 18);
    const again = parseModel(text);
    expect(modelsEqual(model, again)).toBeUndefined();
    expect(printModel(again)).toBe(text);
  });

  it('prints float32 data in the shortest spelling that reads back to the same bits', () => {
    const b = new GraphBuilder();
    const values = [0.1, -2.5e-8, 1 / 3, 3.4028234663852886e38, 1.401298464324817e-45, 123456.789, -0.0001, 7e22];
    b.output(b.constant(Tensor.fromValues('float32', [values.length], values), 'w'));
    const text = printModel(b.model());
    // Integral values (FLT_MAX, 7e22 as float32) print in full, as the double they are.
    expect(text).toContain('[0.1, -2.5e-8, 0.33333334, 3.4028234663852886e+38, 1e-45, 123456.79, -0.0001, 6.999999844737416e+22]');
    const back = parseModel(text).graph.constants[0]!.constant!;
    expect(Array.from(back.bytes())).toEqual(Array.from(Tensor.fromValues('float32', [values.length], values).bytes()));
  });
});
